-- Fan-out jobs: bulk notifications (a list of users) and announcements (all users, users
-- or admins). The API answers at once; a background thread walks the recipients in id
-- order in batches, each batch in one transaction with the cursor and the count, so a
-- crash resumes where the last commit left off.
CREATE TABLE broadcasts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind          text NOT NULL CHECK (kind IN ('bulk', 'announcement')),
  target        text NOT NULL CHECK (target IN ('list', 'all', 'users', 'admins')),
  user_ids      uuid[],                   -- target list: the recipients
  request       jsonb NOT NULL,           -- category, priority, channels, template, data, title, body, action_url
  send_at       timestamptz,              -- the fan-out starts then (NULL: now)
  status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'completed', 'failed')),
  cursor_id     uuid,                     -- last recipient done
  recipients    integer NOT NULL DEFAULT 0,
  created_count integer NOT NULL DEFAULT 0,
  lease_token   uuid,
  lease_until   timestamptz,
  error         text,
  created_by    text,
  created_by_type text,
  started_at    timestamptz,
  completed_at  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX broadcasts_runnable_idx ON broadcasts (created_at) WHERE status IN ('pending', 'running');
CREATE INDEX broadcasts_kind_created_idx ON broadcasts (kind, created_at DESC, id DESC);

ALTER TABLE notifications ADD COLUMN broadcast_id uuid REFERENCES broadcasts (id) ON DELETE SET NULL;
