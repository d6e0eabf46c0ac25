-- The operators' listings of deliveries and of the audit log page newest first through
-- (created_at DESC, id DESC) indexes. Every row is written with a created_at later than all
-- before it (the writer's now(); ids are time-ordered since 0096), so in a descending index
-- each insert lands on the leftmost leaf, reached by a descent from the root. In ascending
-- order the same inserts land on the rightmost leaf, which PostgreSQL reaches without a
-- descent (the fast path 0096 gives the primary keys), and the listings read the index
-- backwards: the same plans, the same order. Each POST /api/v1/notifications writes one
-- entry here per delivery and one per audit row.
--
-- CREATE INDEX takes a write lock on the table for the time of the build (migrations run in
-- a transaction); on a large installation, run this migration in a quiet hour.
DROP INDEX deliveries_created_at_id_idx;
CREATE INDEX deliveries_created_at_id_idx ON deliveries (created_at, id);

DROP INDEX audit_log_created_at_id_idx;
CREATE INDEX audit_log_created_at_id_idx ON audit_log (created_at, id);
