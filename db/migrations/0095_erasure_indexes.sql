-- The account export and erasure (common/users/privacy_repo.c) read every notification and
-- audit entry of one user; both tables gain rows with every POST /api/v1/notifications, and
-- neither had an index for those reads, so each ran a sequential scan: seconds at a few
-- million rows, past HERALD_DB_STATEMENT_TIMEOUT_MS (5 s) later, when the request fails.
--  * notifications_user_feed_idx covered only rows not deleted from the feed; over every row
--    it serves both (each new notification has one entry either way, so a POST writes no
--    more; a row deleted from the feed keeps its entry).
--  * audit entries about a user (target_type 'user'): a partial index on target_id, so the
--    entries about notifications, payments and the rest (one per POST) write nothing to it.
--  * api_keys by their creator.
-- Plain CREATE INDEX (migrations run in a transaction): writes to these tables wait while the
-- indexes build (seconds per million rows).
DROP INDEX notifications_user_feed_idx;
CREATE INDEX notifications_user_feed_idx ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX audit_log_user_target_idx ON audit_log (target_id) WHERE target_type = 'user';
CREATE INDEX api_keys_created_by_idx ON api_keys (created_by);
