-- Notification preferences, templates, and what the API renders at send time.

-- Per-user preferences. No row means the defaults: every channel on, quiet hours off.
CREATE TABLE notification_preferences (
  user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  channels       jsonb NOT NULL DEFAULT '{}'::jsonb,  -- {"sms": false, ...}; absent = on
  categories     jsonb NOT NULL DEFAULT '{}'::jsonb,  -- {"<category>": {"sms": true}}: overrides channels
  quiet_enabled  boolean NOT NULL DEFAULT false,
  quiet_start    text CHECK (quiet_start ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  quiet_end      text CHECK (quiet_end ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
  quiet_timezone text,                                 -- NULL: the user's profile time zone
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CHECK (NOT quiet_enabled OR (quiet_start IS NOT NULL AND quiet_end IS NOT NULL))
);

-- Templates: base content (in default_locale) per channel, plus per-locale overrides.
CREATE TABLE templates (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  key            text NOT NULL UNIQUE CHECK (key ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
  name           text CHECK (length(name) <= 200),
  description    text CHECK (length(description) <= 2000),
  default_locale text NOT NULL DEFAULT 'en',
  channels       jsonb NOT NULL,
  locales        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX templates_created_at_id_idx ON templates (created_at DESC, id DESC);

-- rendered: the per-channel content rendered when sent ({"email":{"subject","text","html"},
-- "sms":{"text"}, "push":{"title","body"}, "in_app":{"title","body"}}), so workers only send.
-- in_app: the notification has an in-app delivery and shows in the user's feed.
ALTER TABLE notifications
  ADD COLUMN rendered jsonb,
  ADD COLUMN locale   text,
  ADD COLUMN in_app   boolean NOT NULL DEFAULT false;
CREATE INDEX notifications_in_app_feed_idx ON notifications (user_id, created_at DESC, id DESC)
  WHERE in_app AND deleted_at IS NULL;
CREATE INDEX notifications_unread_idx ON notifications (user_id)
  WHERE in_app AND deleted_at IS NULL AND read_at IS NULL;

CREATE INDEX deliveries_user_created_idx ON deliveries (user_id, created_at DESC, id DESC);
