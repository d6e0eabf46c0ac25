-- The unread page of the feed (GET /api/v1/notifications?unread=true) in keyset order, and the
-- unread_count its body carries.
-- notifications_unread_idx (user_id only) served the count but not the page: for a user who has
-- read nearly everything, PostgreSQL either walked the whole in-app feed index filtering on
-- read_at (measured: 19,600 rows read for 2 returned at 200,000 rows, p99 1.9 s in
-- bench/feed.sh) or fetched every unread row and sorted them. This index serves the page (range
-- scan in (created_at, id) order, LIMIT stops it) and, with send_at included, the count as an
-- index-only scan (49,871 unread: 6 ms instead of 26-87 ms of bitmap heap scan), so it replaces
-- the old one. Plain CREATE INDEX (migrations run in a transaction): writes to notifications
-- wait while it builds (seconds per million rows).
CREATE INDEX notifications_unread_feed_idx ON notifications (user_id, created_at DESC, id DESC)
  INCLUDE (send_at) WHERE in_app AND deleted_at IS NULL AND read_at IS NULL;
DROP INDEX notifications_unread_idx;
