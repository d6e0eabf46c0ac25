-- Announcements: audiences narrowed by locale and by topic, updates and withdrawal.
--
-- locales: recipients whose locale is one of these, or whose language is ("de" takes de-AT);
-- topics: recipients subscribed to at least one of these. NULL: no such condition. Both are
-- lower case. A withdrawn announcement stops fanning out; its unread in-app copies leave the
-- feeds and its deliveries not yet sent are skipped (reason "withdrawn").
ALTER TABLE broadcasts ADD COLUMN locales text[], ADD COLUMN topics text[],
  ADD COLUMN withdrawn_at timestamptz;
ALTER TABLE broadcasts DROP CONSTRAINT broadcasts_status_check;
ALTER TABLE broadcasts ADD CONSTRAINT broadcasts_status_check
  CHECK (status IN ('pending', 'running', 'completed', 'failed', 'withdrawn'));

-- Topics users subscribe to (GET /api/v1/topics, /api/v1/users/me/topics).
CREATE TABLE topics (
  key         text PRIMARY KEY CHECK (key ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 1000),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE topic_subscriptions (
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  topic_key  text NOT NULL REFERENCES topics (key) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, topic_key)
);
CREATE INDEX topic_subscriptions_topic_idx ON topic_subscriptions (topic_key, user_id);

-- The copies of a broadcast (withdraw and update find them).
CREATE INDEX notifications_broadcast_idx ON notifications (broadcast_id) WHERE broadcast_id IS NOT NULL;
