-- The webhook channel: endpoints users (or admins, system-wide) register, and one
-- delivery row per notification and endpoint.

-- An endpoint receives signed POSTs (Standard Webhooks). user_id NULL: a system-wide
-- endpoint that receives every user's notifications (of its categories), created by an
-- admin. The secret is kept as registered ("whsec_" + base64): signing needs it. After a
-- rotation the previous secret also signs until previous_secret_expires_at.
CREATE TABLE webhook_endpoints (
  id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id                    uuid REFERENCES users (id) ON DELETE CASCADE,
  created_by                 uuid REFERENCES users (id) ON DELETE SET NULL,
  url                        text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  format                     text NOT NULL DEFAULT 'json'
                               CHECK (format IN ('json', 'slack', 'discord')),
  description                text CHECK (length(description) <= 200),
  categories                 text[],
  secret                     text NOT NULL,
  previous_secret            text,
  previous_secret_expires_at timestamptz,
  enabled                    boolean NOT NULL DEFAULT true,
  consecutive_failures       integer NOT NULL DEFAULT 0,
  disabled_at                timestamptz,
  disabled_reason            text,
  owner_notified_at          timestamptz,
  last_success_at            timestamptz,
  last_failure_at            timestamptz,
  created_at                 timestamptz NOT NULL DEFAULT now(),
  updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_user_idx ON webhook_endpoints (user_id, created_at DESC, id DESC);
CREATE INDEX webhook_endpoints_system_idx ON webhook_endpoints (created_at, id)
  WHERE user_id IS NULL AND enabled;
CREATE INDEX webhook_endpoints_unnotified_idx ON webhook_endpoints (disabled_at)
  WHERE disabled_at IS NOT NULL AND owner_notified_at IS NULL;

ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
  CHECK (channel IN ('in_app', 'email', 'sms', 'push', 'webhook'));
ALTER TABLE deliveries ADD COLUMN endpoint_id uuid
  REFERENCES webhook_endpoints (id) ON DELETE SET NULL;
CREATE INDEX deliveries_endpoint_idx ON deliveries (endpoint_id) WHERE endpoint_id IS NOT NULL;
