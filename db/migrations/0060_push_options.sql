-- How a push notification is shown on the device (POST /api/v1/notifications' `push`:
-- silent, priority, ttl, collapse_key, badge, android and apns overrides), read by
-- herald-push with the job. NULL: the defaults.
ALTER TABLE notifications ADD COLUMN push jsonb;
