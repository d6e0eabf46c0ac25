-- The longest CHECK rules of payments, refunds and users move into domains, as migration 0104
-- did for the tables POST /api/v1/notifications writes: PostgreSQL reads a table's CHECK
-- constraints back from their stored expression trees and plans them at every execution of a
-- statement that inserts into or updates the table, and a domain's rules once per connection.
--
-- payments' twelve constraints were 9,555 characters of tree, read at every statement that
-- writes a payment: its creation, each confirmation, cancellation and refund, each Stripe or
-- M-Pesa webhook that moves it, and the reconciler's pick of the next payment to check, which
-- updates payments and refunds in one statement (common/reconcile/reconcile_repo.c). users'
-- are read at every sign-in, which counts attempts on the row. The lists and length rules
-- below become casts to domains (about 300 characters each, 516 for a nullable column, which
-- keeps NULL allowed); the short rules (amounts, currencies, the receipt number, the phone, the
-- name) stay, since their trees are hardly longer than a cast's. bench/README.md, "Session of
-- 2026-12-06 (twenty-third)", has the measure.
--
-- As in 0104: the columns keep their type (text), so no table is rewritten and statements of
-- an earlier version still running during a rolling restart are unaffected; a violation is
-- still SQLSTATE 23514; the constraints are added NOT VALID (every row met the same rule under
-- the constraint dropped in the same statement), and `ALTER TABLE ... VALIDATE CONSTRAINT`
-- marks them validated later without blocking writes (docs/operations.md).
CREATE DOMAIN herald_payment_status AS text
  CONSTRAINT herald_payment_status_check
  CHECK (VALUE IN ('requires_payment_method', 'requires_confirmation', 'requires_action',
                   'processing', 'succeeded', 'canceled', 'failed', 'disputed'));
CREATE DOMAIN herald_payment_type AS text
  CONSTRAINT herald_payment_type_check
  CHECK (VALUE IN ('tournament_fee', 'coaching_session', 'venue_booking', 'subscription',
                   'other'));
CREATE DOMAIN herald_payment_provider AS text
  CONSTRAINT herald_payment_provider_check CHECK (VALUE IN ('stripe', 'mpesa'));
CREATE DOMAIN herald_provider_reference AS text
  CONSTRAINT herald_provider_reference_check CHECK (length(VALUE) BETWEEN 1 AND 64);
CREATE DOMAIN herald_refund_status AS text
  CONSTRAINT herald_refund_status_check
  CHECK (VALUE IN ('pending', 'requires_action', 'succeeded', 'failed', 'canceled'));
CREATE DOMAIN herald_refund_reason AS text
  CONSTRAINT herald_refund_reason_check
  CHECK (VALUE IN ('duplicate', 'fraudulent', 'requested_by_customer'));
CREATE DOMAIN herald_user_status AS text
  CONSTRAINT herald_user_status_check CHECK (VALUE IN ('active', 'disabled', 'deleted'));
CREATE DOMAIN herald_user_role AS text
  CONSTRAINT herald_user_role_check CHECK (VALUE IN ('user', 'admin'));
CREATE DOMAIN herald_user_email AS text
  CONSTRAINT herald_user_email_check CHECK (length(VALUE) BETWEEN 3 AND 254);

ALTER TABLE payments
  DROP CONSTRAINT payments_status_check,
  ADD CONSTRAINT payments_status_check
    CHECK (status::herald_payment_status IS NOT NULL) NOT VALID,
  DROP CONSTRAINT payments_payment_type_check,
  ADD CONSTRAINT payments_payment_type_check
    CHECK (payment_type::herald_payment_type IS NOT NULL) NOT VALID,
  DROP CONSTRAINT payments_provider_check,
  ADD CONSTRAINT payments_provider_check
    CHECK (provider::herald_payment_provider IS NOT NULL) NOT VALID,
  DROP CONSTRAINT payments_provider_reference_check,
  ADD CONSTRAINT payments_provider_reference_check
    CHECK (provider_reference IS NULL
           OR provider_reference::herald_provider_reference IS NOT NULL) NOT VALID,
  DROP CONSTRAINT payments_idempotency_key_check,
  ADD CONSTRAINT payments_idempotency_key_check
    CHECK (idempotency_key IS NULL
           OR idempotency_key::herald_idempotency_key IS NOT NULL) NOT VALID;
ALTER TABLE refunds
  DROP CONSTRAINT refunds_status_check,
  ADD CONSTRAINT refunds_status_check
    CHECK (status::herald_refund_status IS NOT NULL) NOT VALID,
  DROP CONSTRAINT refunds_reason_check,
  ADD CONSTRAINT refunds_reason_check
    CHECK (reason IS NULL OR reason::herald_refund_reason IS NOT NULL) NOT VALID;
ALTER TABLE users
  DROP CONSTRAINT users_status_check,
  ADD CONSTRAINT users_status_check CHECK (status::herald_user_status IS NOT NULL) NOT VALID,
  DROP CONSTRAINT users_role_check,
  ADD CONSTRAINT users_role_check CHECK (role::herald_user_role IS NOT NULL) NOT VALID,
  DROP CONSTRAINT users_email_check,
  ADD CONSTRAINT users_email_check CHECK (email::herald_user_email IS NOT NULL) NOT VALID;
