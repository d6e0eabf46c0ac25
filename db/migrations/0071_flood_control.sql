-- Protecting users from floods: digests, throttles and daily caps.
--   digest     waiting for its category's digest window to close (API sweeper)
--   digested   went out inside a digest: digest_delivery_id is the digest's own delivery
--   throttled  over the user's hourly limit for the channel, and no digest to wait for
--   capped     over the channel's daily cap
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
  CHECK (status IN ('queued', 'scheduled', 'processing', 'sent', 'failed', 'dead', 'skipped',
                    'held', 'digest', 'digested', 'throttled', 'capped'));
ALTER TABLE deliveries ADD COLUMN digest_delivery_id uuid REFERENCES deliveries (id)
  ON DELETE SET NULL;

-- The sweeper's pass over waiting members, oldest first per recipient and channel.
CREATE INDEX deliveries_digest_wait_idx ON deliveries (user_id, channel, created_at)
  WHERE status = 'digest';

-- One alert to the admins per channel and day when a daily cap is reached.
CREATE TABLE cap_alerts (
  channel    text NOT NULL,
  day        date NOT NULL,
  capped     integer NOT NULL DEFAULT 0,
  alerted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (channel, day)
);
-- The sweeper's look for today's capped deliveries.
CREATE INDEX deliveries_capped_idx ON deliveries (channel, updated_at) WHERE status = 'capped';
