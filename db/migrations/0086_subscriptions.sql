-- Subscriptions: plans mirrored as provider products and prices, users' subscriptions
-- to them and the invoices the provider bills. A subscription's status, periods and
-- cancellation are what the provider last said (its answers to our calls, its webhooks,
-- a sync), never what a client sent.

CREATE TABLE billing_plans (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
  amount              bigint NOT NULL CHECK (amount > 0),
  currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  interval            text NOT NULL CHECK (interval IN ('day', 'week', 'month', 'year')),
  interval_count      integer NOT NULL DEFAULT 1 CHECK (interval_count BETWEEN 1 AND 12),
  trial_days          integer NOT NULL DEFAULT 0 CHECK (trial_days BETWEEN 0 AND 730),
  active              boolean NOT NULL DEFAULT true,
  provider            text NOT NULL DEFAULT 'stripe',
  provider_product_id text UNIQUE,
  provider_price_id   text UNIQUE,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX billing_plans_created_idx ON billing_plans (created_at DESC, id DESC);

CREATE TABLE subscriptions (
  id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id                  uuid NOT NULL REFERENCES users (id),
  plan_id                  uuid NOT NULL REFERENCES billing_plans (id),
  status                   text NOT NULL CHECK (status IN ('pending', 'incomplete',
                             'incomplete_expired', 'trialing', 'active', 'past_due', 'unpaid',
                             'canceled', 'paused')),
  provider                 text NOT NULL DEFAULT 'stripe',
  provider_subscription_id text UNIQUE,
  provider_item_id         text,
  cancel_at_period_end     boolean NOT NULL DEFAULT false,
  current_period_start     timestamptz,
  current_period_end       timestamptz,
  trial_end                timestamptz,
  canceled_at              timestamptz,
  failed_attempts          integer NOT NULL DEFAULT 0, -- of the latest unpaid invoice
  created_at               timestamptz NOT NULL DEFAULT now(),
  updated_at               timestamptz NOT NULL DEFAULT now()
);
-- One subscription that is not over per user: a second subscribe is a 409 (change plan instead).
CREATE UNIQUE INDEX subscriptions_one_live ON subscriptions (user_id)
  WHERE status NOT IN ('canceled', 'incomplete_expired');
CREATE INDEX subscriptions_user_idx ON subscriptions (user_id, created_at DESC, id DESC);

CREATE TABLE subscription_invoices (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subscription_id     uuid NOT NULL REFERENCES subscriptions (id),
  provider_invoice_id text NOT NULL UNIQUE,
  status              text NOT NULL,
  amount_due          bigint NOT NULL DEFAULT 0,
  amount_paid         bigint NOT NULL DEFAULT 0,
  currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  attempt_count       integer NOT NULL DEFAULT 0,
  notified_attempts   integer NOT NULL DEFAULT 0, -- failed attempts the user was told of
  paid_at             timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_invoices_sub_idx ON subscription_invoices (subscription_id, created_at DESC);
