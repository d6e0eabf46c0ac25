-- Idempotency-Key records (DESIGN.md): one row per (caller, key). The first request
-- inserts it in_flight; its outcome is stored in the same transaction as the change it
-- made, so a replay returns exactly what the first request answered. Kept >= 24 h.
CREATE TABLE idempotency_keys (
  caller          text NOT NULL,          -- "user:<id>" or "api_key:<id>"
  key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash    text NOT NULL,          -- SHA-256 of method, path and canonical body
  status          text NOT NULL CHECK (status IN ('in_flight', 'completed')),
  response_status integer,
  response_body   text,
  locked_at       timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  completed_at    timestamptz,
  PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
