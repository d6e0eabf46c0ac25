-- Notifications and their deliveries: one delivery row per channel, the unit the
-- queues carry (PostgreSQL is the truth; Redis carries delivery ids).
CREATE TABLE notifications (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  category     text NOT NULL CHECK (length(category) BETWEEN 1 AND 64),
  priority     text NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'critical')),
  template_key text,
  data         jsonb NOT NULL DEFAULT '{}'::jsonb,
  title        text,            -- rendered (templates are rendered by the API when sent)
  body         text,            -- rendered plain text
  html         text,            -- rendered HTML part for e-mail, when the template has one
  action_url   text,
  send_at      timestamptz,
  read_at      timestamptz,
  deleted_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_user_feed_idx ON notifications (user_id, created_at DESC, id DESC)
  WHERE deleted_at IS NULL;

CREATE TABLE deliveries (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  notification_id     uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
  user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel             text NOT NULL CHECK (channel IN ('in_app', 'email', 'sms', 'push')),
  status              text NOT NULL CHECK (status IN ('queued', 'scheduled', 'processing', 'sent',
                        'failed', 'dead', 'skipped', 'held')),
  reason              text,
  attempts            integer NOT NULL DEFAULT 0,
  recoveries          integer NOT NULL DEFAULT 0,
  fencing_token       bigint NOT NULL DEFAULT 0,
  due_at              timestamptz NOT NULL DEFAULT now(),
  provider            text,
  provider_message_id text,
  last_error          text,
  sent_at             timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_notification_idx ON deliveries (notification_id);
CREATE INDEX deliveries_sweep_idx ON deliveries (status, due_at) WHERE status IN ('queued', 'scheduled');
CREATE INDEX deliveries_created_at_id_idx ON deliveries (created_at DESC, id DESC);

CREATE TABLE delivery_events (
  id                  bigserial PRIMARY KEY,
  delivery_id         uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt             integer NOT NULL,
  status              text NOT NULL,
  provider            text,
  provider_message_id text,
  error               text,
  duration_ms         integer,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX delivery_events_delivery_idx ON delivery_events (delivery_id, id);
CREATE INDEX delivery_events_created_at_idx ON delivery_events (created_at);

-- Push targets. A token belongs to one user at a time; registering it again moves it.
CREATE TABLE devices (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token        text NOT NULL UNIQUE CHECK (length(token) BETWEEN 1 AND 4096),
  platform     text NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
  app_version  text,
  active       boolean NOT NULL DEFAULT true,
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_user_idx ON devices (user_id, created_at DESC, id DESC);
