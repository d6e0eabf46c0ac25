-- A delivery_events row is inserted only by a statement that updates its delivery and takes
-- the delivery's id from that UPDATE's RETURNING: a worker's record of an attempt, alone or
-- for a batch (queue/jobs.c, workers/runtime/jobs_batch.c), a recovery, a dead letter's replay
-- or purge (queue/jobs.c) and a carrier's receipt (notifications/sms_status_repo.c). The
-- delivery exists and the UPDATE holds its row lock to the COMMIT, so a DELETE of it waits for
-- that transaction. The foreign key on delivery_events.delivery_id checked it again at every
-- insert through the trigger machinery: an event queued per row, the new row fetched again and
-- an SPI lookup FOR KEY SHARE, once for every job a worker records. What the key did besides,
-- removing a delivery's events with it (a notification deleted by retention or erasure, a
-- user's row deleted), is now one statement per DELETE of deliveries: a statement-level trigger
-- over the deleted rows, as migration 0091 did for deliveries and their notification. It fires
-- for the deletes 0091's trigger makes, and through delivery_events_delivery_idx.
CREATE FUNCTION herald_deliveries_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM delivery_events e USING gone g WHERE e.delivery_id = g.id;
  RETURN NULL;
END
$$;

CREATE TRIGGER deliveries_delete_events AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION herald_deliveries_deleted();

ALTER TABLE delivery_events DROP CONSTRAINT delivery_events_delivery_id_fkey;
