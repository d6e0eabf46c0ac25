-- Deliveries are inserted in one place only, in the statement that inserts their notification
-- (notification_repo.c: the d CTE takes only ids the n CTE returned), so the foreign key on
-- deliveries.notification_id checked at every insert something that statement already
-- guarantees: three lookups per POST /api/v1/notifications through the trigger machinery
-- (SPI), about 9 % of PostgreSQL's CPU per POST in bench/profile_post.sh. What the key did
-- besides, removing a notification's deliveries with it (retention, erasure, a user's row
-- deleted), is now one statement per DELETE: a statement-level trigger with the deleted rows
-- as a transition table (it fires for cascaded deletes from users too).
CREATE FUNCTION herald_notifications_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM deliveries d USING gone g WHERE d.notification_id = g.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER notifications_delete_deliveries AFTER DELETE ON notifications
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION herald_notifications_deleted();

ALTER TABLE deliveries DROP CONSTRAINT deliveries_notification_id_fkey;
