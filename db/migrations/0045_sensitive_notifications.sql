-- Notifications that carry a secret (the one-time links of password reset and e-mail
-- verification) are marked sensitive: reads never show their content, and it is cleared
-- once their e-mail is sent or dead (this trigger) or the link has expired (the sweeper).
ALTER TABLE notifications ADD COLUMN sensitive boolean NOT NULL DEFAULT false;

CREATE FUNCTION herald_clear_sensitive_notification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE notifications SET body = NULL, html = NULL, action_url = NULL, data = '{}'::jsonb
   WHERE id = NEW.notification_id AND sensitive AND body IS NOT NULL;
  RETURN NULL;
END
$$;

CREATE TRIGGER deliveries_clear_sensitive AFTER UPDATE OF status ON deliveries
  FOR EACH ROW WHEN (NEW.status IN ('sent', 'dead') AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION herald_clear_sensitive_notification();

-- The sweeper's pass over sensitive notifications whose content is still there.
CREATE INDEX notifications_sensitive_pending_idx ON notifications (created_at)
  WHERE sensitive AND body IS NOT NULL;
