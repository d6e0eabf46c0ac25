-- Addresses an e-mail provider reported as undeliverable (hard bounce, complaint, dropped
-- as invalid) through its signed webhook. herald-email skips e-mail to them
-- (reason email_undeliverable). One row per address, in lower case; a later report
-- updates it.
CREATE TABLE email_suppressions (
  email        text PRIMARY KEY CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
  reason       text NOT NULL CHECK (reason IN ('bounce', 'complaint', 'dropped')),
  provider     text NOT NULL,
  event_id     text,
  detail       text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
