-- A scheduled in-app notification enters the feed when its send_at passes, which writes
-- nothing to the notification itself: the sweeper marks its in-app delivery sent. This trigger
-- gives the notification a new event_seq at that moment, as a creation (created_seq NULL), so
-- the notification streams report it (docs/streaming.md). It takes the user's feed lock first,
-- as every writer of event_seq does (H_NOTIF_FEED_LOCK in notification_repo.h).
CREATE FUNCTION herald_stream_in_app_due() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(21332, hashtext(NEW.user_id::text));
  UPDATE notifications SET created_seq = NULL, event_seq = nextval('notification_event_seq')
   WHERE id = NEW.notification_id AND in_app;
  RETURN NULL;
END
$$;

CREATE TRIGGER deliveries_stream_due AFTER UPDATE OF status ON deliveries
  FOR EACH ROW WHEN (NEW.channel = 'in_app' AND OLD.status = 'scheduled' AND NEW.status = 'sent')
  EXECUTE FUNCTION herald_stream_in_app_due();
