-- The trigger of 0045 clears a sensitive notification's content once its delivery is sent or
-- dead. Only e-mails carry sensitive content (h_outbox_email's one-time links, marked by
-- h_outbox_mark_sensitive in common/notifications/outbox.c), yet the trigger's function ran for
-- every push, SMS and webhook delivery a worker finished, each time an UPDATE of notifications
-- by key that found nothing to clear. The channel test in WHEN is evaluated without calling the
-- function. (The sweeper still clears any sensitive notification whose link has expired.)
DROP TRIGGER deliveries_clear_sensitive ON deliveries;

CREATE TRIGGER deliveries_clear_sensitive AFTER UPDATE OF status ON deliveries
  FOR EACH ROW WHEN (NEW.channel = 'email' AND NEW.status IN ('sent', 'dead')
                     AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION herald_clear_sensitive_notification();
