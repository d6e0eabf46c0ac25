-- One index entry fewer per in-app notification written (every POST /api/v1/notifications that
-- names the in-app channel or no channel).
--
-- notifications_user_feed_idx (user_id, created_at DESC, id DESC) held every row for the
-- account export and erasure (0095); every in-app row has an entry keyed by its user in
-- notifications_user_event_idx (user_id, event_seq) WHERE in_app already, so for in-app rows
-- the full index only repeated it. It becomes notifications_user_idx (user_id) WHERE NOT in_app:
-- the two partial indexes hold every row once, and what reads all of a user's rows says
-- `user_id = $1 AND (in_app OR NOT in_app)`, which the planner reads as a BitmapOr of both
-- (H_NOTIF_OF_USER in common/notifications/notification_repo.h).
--
-- deliveries_user_created_idx stays: without it the operators' GET
-- /api/v1/admin/deliveries?user_id= found a user's newest deliveries by scanning everyone's
-- (bench/README.md, "Session of 2026-12-06 (twentieth)").
--
-- The CREATE INDEX reads notifications once under a write lock (migrations run in a
-- transaction): on a large installation, run it in a quiet hour.
DROP INDEX notifications_user_feed_idx;
CREATE INDEX notifications_user_idx ON notifications (user_id) WHERE NOT in_app;

-- A deleted user's notifications (0092), through the same two indexes.
CREATE OR REPLACE FUNCTION herald_users_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM notifications n USING gone g
   WHERE n.user_id = g.id AND (n.in_app OR NOT n.in_app);
  RETURN NULL;
END
$$;
