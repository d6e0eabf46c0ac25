-- The CHECK constraints of the four tables every POST /api/v1/notifications and every worker
-- writes keep their rules in domains, read once per connection instead of once per statement.
--
-- PostgreSQL keeps a table's CHECK constraint as the text of its expression tree and, at each
-- execution of each statement that inserts into or updates the table, reads that text back
-- (stringToNode) and plans it before the first row is checked. deliveries.status, a list of
-- twelve words, was 2,424 characters of tree; the seven constraints below were 8,441, parsed
-- at every group-commit batch (five of them) and at every worker's UPDATE of deliveries (two)
-- (bench/README.md, "Session of 2026-12-06 (twenty-second)"). A domain's constraints are read
-- and planned once per connection into its type cache. Each table constraint becomes a cast
-- of the column to its domain, a tree of about 290 characters; the cast checks the domain's
-- rule. Every column is NOT NULL, so "IS NOT NULL" only gives the cast a boolean to be.
--
-- The columns keep their type (text): no table is rewritten, no index is built again, and
-- the statements of an earlier version of the API and workers, still running during a rolling
-- restart, read and write these columns as before (a parameter written to a domain-typed
-- column and compared elsewhere in the same statement would get two types: 42P08).
-- A violation is still SQLSTATE 23514 (check_violation), now named after the domain's
-- constraint. The new constraints are added NOT VALID: every row satisfied the same rule under
-- the constraint dropped in the same statement, and checking them again would read the
-- tables under this migration's write lock. `ALTER TABLE ... VALIDATE CONSTRAINT`, which does
-- not block writes, marks them validated whenever an operator likes (docs/operations.md).
CREATE DOMAIN herald_delivery_status AS text
  CONSTRAINT herald_delivery_status_check
  CHECK (VALUE IN ('queued', 'scheduled', 'processing', 'sent', 'failed', 'dead', 'skipped',
                   'held', 'digest', 'digested', 'throttled', 'capped'));
CREATE DOMAIN herald_channel AS text
  CONSTRAINT herald_channel_check CHECK (VALUE IN ('in_app', 'email', 'sms', 'push', 'webhook'));
CREATE DOMAIN herald_priority AS text
  CONSTRAINT herald_priority_check CHECK (VALUE IN ('low', 'normal', 'high', 'critical'));
CREATE DOMAIN herald_category AS text
  CONSTRAINT herald_category_check CHECK (length(VALUE) BETWEEN 1 AND 64);
CREATE DOMAIN herald_actor_type AS text
  CONSTRAINT herald_actor_type_check CHECK (VALUE IN ('user', 'api_key', 'system'));
CREATE DOMAIN herald_idempotency_status AS text
  CONSTRAINT herald_idempotency_status_check CHECK (VALUE IN ('in_flight', 'completed'));
CREATE DOMAIN herald_idempotency_key AS text
  CONSTRAINT herald_idempotency_key_check CHECK (length(VALUE) BETWEEN 1 AND 255);

ALTER TABLE deliveries
  DROP CONSTRAINT deliveries_status_check,
  ADD CONSTRAINT deliveries_status_check
    CHECK (status::herald_delivery_status IS NOT NULL) NOT VALID,
  DROP CONSTRAINT deliveries_channel_check,
  ADD CONSTRAINT deliveries_channel_check CHECK (channel::herald_channel IS NOT NULL) NOT VALID;
ALTER TABLE notifications
  DROP CONSTRAINT notifications_priority_check,
  ADD CONSTRAINT notifications_priority_check
    CHECK (priority::herald_priority IS NOT NULL) NOT VALID,
  DROP CONSTRAINT notifications_category_check,
  ADD CONSTRAINT notifications_category_check
    CHECK (category::herald_category IS NOT NULL) NOT VALID;
ALTER TABLE audit_log
  DROP CONSTRAINT audit_log_actor_type_check,
  ADD CONSTRAINT audit_log_actor_type_check
    CHECK (actor_type::herald_actor_type IS NOT NULL) NOT VALID;
ALTER TABLE idempotency_keys
  DROP CONSTRAINT idempotency_keys_status_check,
  ADD CONSTRAINT idempotency_keys_status_check
    CHECK (status::herald_idempotency_status IS NOT NULL) NOT VALID,
  DROP CONSTRAINT idempotency_keys_key_check,
  ADD CONSTRAINT idempotency_keys_key_check
    CHECK (key::herald_idempotency_key IS NOT NULL) NOT VALID;
