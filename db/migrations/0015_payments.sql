-- Payments through Stripe: customers, payments (one PaymentIntent each), refunds,
-- saved payment methods and the webhook events received. Money is integer minor
-- units with an ISO 4217 currency. Payment rows are never deleted (users are
-- anonymised, not removed), so they reference users without cascading.

-- The provider customer of a user, created on first use.
CREATE TABLE payment_customers (
  user_id              uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  provider             text NOT NULL DEFAULT 'stripe',
  provider_customer_id text NOT NULL UNIQUE,
  created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payments (
  id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id                    uuid NOT NULL REFERENCES users (id),
  idempotency_key            text CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  request_hash               text,
  payment_type               text NOT NULL CHECK (payment_type IN ('tournament_fee',
                               'coaching_session', 'venue_booking', 'subscription', 'other')),
  amount                     bigint NOT NULL CHECK (amount > 0),
  currency                   text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  description                text CHECK (length(description) <= 1000),
  metadata                   jsonb NOT NULL DEFAULT '{}'::jsonb,
  status                     text NOT NULL CHECK (status IN ('requires_payment_method',
                               'requires_confirmation', 'requires_action', 'processing',
                               'succeeded', 'canceled')),
  provider                   text NOT NULL DEFAULT 'stripe',
  provider_payment_intent_id text UNIQUE,
  provider_customer_id       text,
  client_secret              text,
  payment_method             text,            -- the provider payment method last used
  fee_provider               bigint NOT NULL DEFAULT 0 CHECK (fee_provider >= 0),
  fee_platform               bigint NOT NULL DEFAULT 0 CHECK (fee_platform >= 0),
  amount_refunded            bigint NOT NULL DEFAULT 0,  -- pending + succeeded refunds
  last_payment_error         jsonb,
  cancellation_reason        text,
  confirm_attempts           integer NOT NULL DEFAULT 0,
  -- the outcome of a provider call is unknown (timeout, 5xx): reconcile from the provider
  needs_reconciliation       boolean NOT NULL DEFAULT false,
  succeeded_at               timestamptz,
  canceled_at                timestamptz,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now(),
  CHECK (amount_refunded BETWEEN 0 AND amount)
);
-- One payment per client Idempotency-Key and user: a retried create finds the first.
CREATE UNIQUE INDEX payments_user_idempotency_key ON payments (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX payments_user_created_idx ON payments (user_id, created_at DESC, id DESC);
CREATE INDEX payments_created_idx ON payments (created_at DESC, id DESC);
CREATE INDEX payments_reconcile_idx ON payments (updated_at) WHERE needs_reconciliation;

CREATE TABLE refunds (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  payment_id           uuid NOT NULL REFERENCES payments (id),
  amount               bigint NOT NULL CHECK (amount > 0),
  currency             text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason               text CHECK (reason IN ('duplicate', 'fraudulent', 'requested_by_customer')),
  status               text NOT NULL CHECK (status IN ('pending', 'requires_action', 'succeeded',
                         'failed', 'canceled')),
  provider_refund_id   text UNIQUE,
  failure_reason       text,
  created_by           uuid,                  -- the admin; NULL when made outside Herald
  needs_reconciliation boolean NOT NULL DEFAULT false,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_payment_idx ON refunds (payment_id, created_at DESC, id DESC);
CREATE INDEX refunds_reconcile_idx ON refunds (updated_at) WHERE needs_reconciliation;

-- Cards (and other methods) saved on the user's provider customer.
CREATE TABLE payment_methods (
  id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id                    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider_payment_method_id text NOT NULL UNIQUE CHECK (length(provider_payment_method_id)
                               BETWEEN 1 AND 255),
  type                       text NOT NULL DEFAULT 'card',
  brand                      text,
  last4                      text,
  exp_month                  integer,
  exp_year                   integer,
  is_default                 boolean NOT NULL DEFAULT false,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX payment_methods_one_default ON payment_methods (user_id) WHERE is_default;
CREATE INDEX payment_methods_user_idx ON payment_methods (user_id, created_at DESC, id DESC);

-- Webhook events, stored once by the provider's event id (a redelivery is a no-op).
CREATE TABLE payment_events (
  id                  text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 255),
  provider            text NOT NULL DEFAULT 'stripe',
  type                text NOT NULL,
  object_id           text,
  provider_created_at timestamptz,
  payload             jsonb NOT NULL,
  received_at         timestamptz NOT NULL DEFAULT now(),
  processed_at        timestamptz,
  outcome             text
);
CREATE INDEX payment_events_object_idx ON payment_events (object_id, received_at);
CREATE INDEX payment_events_unprocessed_idx ON payment_events (received_at)
  WHERE processed_at IS NULL;
