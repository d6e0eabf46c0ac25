-- Two index entries fewer per POST /api/v1/notifications (in-app + e-mail), one fewer per
-- delivery written anywhere.
--
-- notifications_user_feed_idx (user_id, created_at DESC, id DESC) held every row for the
-- account export and erasure (0095); every in-app row has an entry keyed by its user in
-- notifications_user_event_idx (user_id, event_seq) WHERE in_app already, so for in-app rows
-- the full index only repeated it. It becomes notifications_user_idx (user_id) WHERE NOT in_app:
-- the two partial indexes hold every row once, and what reads all of a user's rows says
-- `user_id = $1 AND (in_app OR NOT in_app)`, which the planner reads as a BitmapOr of both
-- (H_NOTIF_OF_USER in common/notifications/notification_repo.h).
--
-- deliveries_user_created_idx (user_id, created_at DESC, id DESC) served the export, the
-- erasure's DELETE (which its notifications' trigger of 0091 has done by then) and the
-- operators' filter GET /api/v1/admin/deliveries?user_id=. deliveries.user_id repeats the
-- notification's (0050), so each now reaches a user's deliveries through the user's
-- notifications and deliveries_notification_idx.
--
-- bench/README.md, "Session of 2026-12-06 (twentieth)": one B-tree entry keyed by user costs
-- PostgreSQL 3-7 us per row.
--
-- The CREATE INDEX reads notifications once under a write lock (migrations run in a
-- transaction): on a large installation, run it in a quiet hour.
DROP INDEX notifications_user_feed_idx;
CREATE INDEX notifications_user_idx ON notifications (user_id) WHERE NOT in_app;
DROP INDEX deliveries_user_created_idx;

-- A deleted user's notifications (0092), through the same two indexes.
CREATE OR REPLACE FUNCTION herald_users_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM notifications n USING gone g
   WHERE n.user_id = g.id AND (n.in_app OR NOT n.in_app);
  RETURN NULL;
END
$$;
