-- notifications.user_id loses its foreign key as deliveries.notification_id did in 0091: the
-- one insert of notifications (notification_repo.c) joins users in the same statement (a live
-- user, or any user for a system notice), so the key's check at every insert (one SPI lookup
-- per POST /api/v1/notifications, about 5 % of PostgreSQL's CPU per POST in
-- bench/profile_post.sh after 0091) checked what the statement already guarantees; users are
-- never deleted by Herald itself (erasure anonymises the row and deletes its notifications).
-- What the key did besides, removing a user's notifications with its row, is one statement per
-- DELETE: a statement-level trigger with the deleted rows as a transition table (the
-- notifications' own trigger of 0091 then removes their deliveries).
CREATE FUNCTION herald_users_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM notifications n USING gone g WHERE n.user_id = g.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER users_delete_notifications AFTER DELETE ON users
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION herald_users_deleted();

ALTER TABLE notifications DROP CONSTRAINT notifications_user_id_fkey;
