-- Disputes (chargebacks) of card payments, as the provider reports them: one row per
-- provider dispute, its status moving forward only (needs_response < under_review <
-- won | lost; warning_* for inquiries). A disputed payment's status becomes
-- 'disputed' and stays so; the dispute row holds the outcome. Reconciliation runs
-- count the dispute outcomes of their period.

-- The payment statuses with 'disputed' (and 'failed', the definitive failure).
ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN (
  'requires_payment_method', 'requires_confirmation', 'requires_action', 'processing',
  'succeeded', 'canceled', 'failed', 'disputed'));

CREATE TABLE disputes (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_id            uuid NOT NULL REFERENCES payments (id),
  provider              text NOT NULL DEFAULT 'stripe',
  provider_dispute_id   text NOT NULL UNIQUE CHECK (length(provider_dispute_id) BETWEEN 1 AND 255),
  amount                bigint NOT NULL CHECK (amount > 0),
  currency              text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason                text NOT NULL CHECK (length(reason) BETWEEN 1 AND 64),
  status                text NOT NULL CHECK (status IN ('warning_needs_response',
                          'warning_under_review', 'warning_closed', 'needs_response',
                          'under_review', 'won', 'lost')),
  evidence_due_by       timestamptz,
  evidence_text         text CHECK (length(evidence_text) <= 20000),
  evidence_submitted_at timestamptz,
  evidence_submitted_by uuid,            -- the admin who submitted it
  closed_at             timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disputes_created_idx ON disputes (created_at DESC, id DESC);
CREATE INDEX disputes_payment_idx ON disputes (payment_id);
CREATE INDEX disputes_closed_idx ON disputes (closed_at) WHERE closed_at IS NOT NULL;

-- Dispute outcomes of a run's period: {"opened","won","lost","lost_amount"}.
ALTER TABLE reconciliation_runs ADD COLUMN disputes jsonb NOT NULL DEFAULT '{}'::jsonb;
