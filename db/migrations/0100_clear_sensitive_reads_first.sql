-- The trigger of 0045/0094 runs for every e-mail delivery set to sent or dead, and its function
-- ran an UPDATE of the notification that found nothing to clear unless the notification was
-- sensitive (only e-mails with one-time links are). Since 0099 every UPDATE statement of
-- notifications also fires the statement trigger that keeps the unread numbers, rows or not:
-- a plpgsql call and a query over two empty transition tables per e-mail sent. The function
-- now looks first, and updates only a notification that has content to clear.
CREATE OR REPLACE FUNCTION herald_clear_sensitive_notification() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM notifications
              WHERE id = NEW.notification_id AND sensitive AND body IS NOT NULL) THEN
    UPDATE notifications SET body = NULL, html = NULL, action_url = NULL, data = '{}'::jsonb
     WHERE id = NEW.notification_id AND sensitive AND body IS NOT NULL;
  END IF;
  RETURN NULL;
END
$$;
