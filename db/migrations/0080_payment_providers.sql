-- Payments through more than one provider: each payment names its provider (column
-- provider, 'stripe' or 'mpesa'), keeps the provider's own transaction reference (the
-- M-Pesa receipt number, which reversals name) and may end 'failed': a definitive
-- failure the payer cannot retry on the same payment (an M-Pesa STK push that timed out,
-- was refused for insufficient funds or a wrong PIN). The mapping of each provider's
-- outcomes to these statuses is documented in common/payments/payment_state.h.
ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN (
  'requires_payment_method', 'requires_confirmation', 'requires_action', 'processing',
  'succeeded', 'canceled', 'failed'));
ALTER TABLE payments ADD CONSTRAINT payments_provider_check
  CHECK (provider IN ('stripe', 'mpesa'));
ALTER TABLE payments ADD COLUMN provider_reference text
                       CHECK (length(provider_reference) BETWEEN 1 AND 64),
                     ADD COLUMN failed_at timestamptz;
