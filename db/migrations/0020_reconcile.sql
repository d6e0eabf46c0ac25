-- Reconciliation: the jobs of herald-reconcile, the sync schedule of payments and
-- refunds in doubt, and the ledger runs with the differences each one found.

-- Jobs that are not deliveries: Redis carries their ids on herald:q:{reconcile}.
CREATE TABLE reconcile_jobs (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind          text NOT NULL CHECK (kind IN ('payment_sync', 'refund_sync', 'ledger_run',
                  'housekeeping')),
  subject_id    text,                 -- the payment, refund or run id
  status        text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done',
                  'failed')),
  attempts      integer NOT NULL DEFAULT 0,
  due_at        timestamptz NOT NULL DEFAULT now(),
  fencing_token bigint NOT NULL DEFAULT 0, -- bumped by every claim; stale owners lose
  last_error    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
-- At most one open job per subject: queueing twice is a no-op.
CREATE UNIQUE INDEX reconcile_jobs_open ON reconcile_jobs (kind, coalesce(subject_id, ''))
  WHERE status IN ('queued', 'running');
CREATE INDEX reconcile_jobs_due_idx ON reconcile_jobs (due_at) WHERE status = 'queued';

-- The sync schedule: after 60 s, 5 min x 5, 1 h, 1 day; then needs_review.
ALTER TABLE payments ADD COLUMN sync_attempts integer NOT NULL DEFAULT 0,
                     ADD COLUMN next_sync_at timestamptz,
                     ADD COLUMN needs_review boolean NOT NULL DEFAULT false;
ALTER TABLE refunds ADD COLUMN sync_attempts integer NOT NULL DEFAULT 0,
                    ADD COLUMN next_sync_at timestamptz,
                    ADD COLUMN needs_review boolean NOT NULL DEFAULT false;
CREATE INDEX payments_unsettled_idx ON payments (updated_at)
  WHERE status IN ('processing', 'requires_action') OR needs_reconciliation;
CREATE INDEX refunds_unsettled_idx ON refunds (updated_at)
  WHERE status IN ('pending', 'requires_action') OR needs_reconciliation;

CREATE TABLE reconciliation_runs (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  period_start    timestamptz NOT NULL,
  period_end      timestamptz NOT NULL CHECK (period_end > period_start),
  status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running',
                    'succeeded', 'failed')),
  requested_by    uuid,               -- the admin; NULL for the schedule and the shell
  local_count     integer NOT NULL DEFAULT 0,
  provider_count  integer NOT NULL DEFAULT 0,
  local_amount    bigint NOT NULL DEFAULT 0,
  provider_amount bigint NOT NULL DEFAULT 0,
  items_found     integer NOT NULL DEFAULT 0, -- differences seen by this run
  items_new       integer NOT NULL DEFAULT 0, -- of which no earlier run had reported
  error           text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz
);
CREATE INDEX reconciliation_runs_created_idx ON reconciliation_runs (created_at DESC, id DESC);

-- One row per difference and period: a second run over the same period adds nothing.
CREATE TABLE reconciliation_items (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id       uuid NOT NULL REFERENCES reconciliation_runs (id) ON DELETE CASCADE,
  period_start timestamptz NOT NULL,
  period_end   timestamptz NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('missing_locally', 'missing_at_provider',
                 'amount_mismatch', 'status_mismatch', 'currency_mismatch')),
  object_type  text NOT NULL CHECK (object_type IN ('payment', 'refund')),
  object_id    text NOT NULL,          -- the provider id, else Herald's id
  local        jsonb,                  -- Herald's side, NULL when missing locally
  provider     jsonb,                  -- Stripe's side, NULL when missing there
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (period_start, period_end, kind, object_id)
);
CREATE INDEX reconciliation_items_run_idx ON reconciliation_items (run_id, created_at, id);
