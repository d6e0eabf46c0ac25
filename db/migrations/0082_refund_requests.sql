-- Refund requests: a payer asks for a refund of their own succeeded payment with a reason;
-- an admin approves (the refund runs, the request records it) or rejects with a reason.
-- 'approving' holds a request while its refund runs, so two admins cannot refund twice.
CREATE TABLE refund_requests (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_id      uuid NOT NULL REFERENCES payments (id),
  user_id         uuid NOT NULL REFERENCES users (id),
  amount          bigint CHECK (amount > 0),      -- NULL: whatever is left to refund
  reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approving', 'approved', 'rejected')),
  decided_by      uuid,
  decision_reason text CHECK (length(decision_reason) <= 1000),
  refund_id       uuid REFERENCES refunds (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  decided_at      timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
-- One open request per payment: asking twice is a 409.
CREATE UNIQUE INDEX refund_requests_one_open ON refund_requests (payment_id)
  WHERE status IN ('pending', 'approving');
CREATE INDEX refund_requests_status_idx ON refund_requests (status, created_at DESC, id DESC);
