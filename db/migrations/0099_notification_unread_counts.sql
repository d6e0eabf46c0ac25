-- Each user's unread in-app notifications, kept as a number instead of counted at every read.
-- The feed's body, GET /notifications/unread-count and the stream all show unread_count; they
-- counted it from notifications_unread_feed_idx, one index entry per unread row: 4.5 ms of
-- PostgreSQL per feed page for a user with 49,000 unread (bench/feed.sh, "half unread"), and
-- the stream's pump paid it again for every batch that reached a user with a stream open.
--
-- notification_unread_counts.unread is the number of the user's rows that are in_app, not
-- deleted and not read, whatever their send_at. What the feed shows as unread leaves out the
-- rows scheduled for later (send_at > now()), which only time makes visible; those few are
-- counted at read time through notifications_unread_scheduled_idx (the rows with a send_at,
-- unread: an immediate send has none, so POST's write path does not touch this index).
--
-- Three statement-level triggers keep the number exact in the transaction that changes the
-- rows (an insert, an update of read_at, deleted_at or in_app, a delete, a cascade from users):
-- one row per user per statement, taken in user_id order so that two statements changing
-- several users' numbers cannot deadlock; a statement that changes no user's number locks
-- nothing. Rows written with triggers off (session_replication_role = replica: a bulk load,
-- a restore) leave the numbers behind: SELECT notification_unread_recount() sets them again.
CREATE TABLE notification_unread_counts (
  user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  unread bigint NOT NULL
) WITH (fillfactor = 50);

CREATE INDEX notifications_unread_scheduled_idx ON notifications (user_id, send_at)
  WHERE in_app AND deleted_at IS NULL AND read_at IS NULL AND send_at IS NOT NULL;

CREATE FUNCTION notification_unread_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO notification_unread_counts AS c (user_id, unread)
    SELECT user_id, count(*) FROM new_rows
     WHERE in_app AND deleted_at IS NULL AND read_at IS NULL
     GROUP BY user_id ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE SET unread = c.unread + excluded.unread;
  ELSIF TG_OP = 'DELETE' THEN
    -- No insert here: a user's number goes with the user (a cascade may have taken it first).
    PERFORM 1 FROM notification_unread_counts
      WHERE user_id IN (SELECT user_id FROM old_rows
                         WHERE in_app AND deleted_at IS NULL AND read_at IS NULL)
      ORDER BY user_id FOR UPDATE;
    UPDATE notification_unread_counts c SET unread = c.unread - d.n
      FROM (SELECT user_id, count(*) AS n FROM old_rows
             WHERE in_app AND deleted_at IS NULL AND read_at IS NULL GROUP BY user_id) d
     WHERE c.user_id = d.user_id;
  ELSE
    INSERT INTO notification_unread_counts AS c (user_id, unread)
    SELECT user_id, sum(delta) FROM (
        SELECT user_id, 1 AS delta FROM new_rows
         WHERE in_app AND deleted_at IS NULL AND read_at IS NULL
        UNION ALL
        SELECT user_id, -1 FROM old_rows
         WHERE in_app AND deleted_at IS NULL AND read_at IS NULL) x
     GROUP BY user_id HAVING sum(delta) <> 0 ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE SET unread = c.unread + excluded.unread;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER notifications_unread_insert AFTER INSERT ON notifications
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION notification_unread_count_rows();
CREATE TRIGGER notifications_unread_update AFTER UPDATE ON notifications
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION notification_unread_count_rows();
CREATE TRIGGER notifications_unread_delete AFTER DELETE ON notifications
  REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION notification_unread_count_rows();

-- Every user's number counted again from the rows (writes to notifications wait meanwhile);
-- returns how many numbers it changed.
CREATE FUNCTION notification_unread_recount() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  changed bigint;
BEGIN
  LOCK TABLE notifications IN SHARE MODE;
  WITH counted AS (
    SELECT user_id, count(*) AS unread FROM notifications
     WHERE in_app AND deleted_at IS NULL AND read_at IS NULL GROUP BY user_id),
  fixed AS (
    INSERT INTO notification_unread_counts AS c (user_id, unread)
    SELECT user_id, unread FROM counted ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE SET unread = excluded.unread
     WHERE c.unread <> excluded.unread
    RETURNING 1),
  zeroed AS (
    UPDATE notification_unread_counts c SET unread = 0
     WHERE c.unread <> 0 AND NOT EXISTS (SELECT 1 FROM counted WHERE counted.user_id = c.user_id)
    RETURNING 1)
  SELECT (SELECT count(*) FROM fixed) + (SELECT count(*) FROM zeroed) INTO changed;
  RETURN changed;
END $$;

SELECT notification_unread_recount();
