-- The push worker's devices query (h_job_load_devices_batch, workers/runtime/jobs_batch.c)
-- with the badge counted on every device row ("old") and on each user's first device only
-- ("new"), timed in batches of 64 users. Run on an empty, migrated database of its own:
--   scripts/stack.sh start --ephemeral --dir /tmp/badge && . /tmp/badge/stack.env
--   build/bin/herald-api migrate && psql "$HERALD_DATABASE_URL" -X -At -f bench/push_badge.sql
--   scripts/stack.sh stop --purge --dir /tmp/badge
-- 20,000 users with 3 active devices and 5 unread in-app notifications each; the same again
-- with 1 active device each. Prints microseconds per batch of 64 users, alternating.
\set ON_ERROR_STOP on
INSERT INTO users (email, password_hash, name)
  SELECT 'b' || g || '@example.com', 'x', 'u' || g FROM generate_series(1, 20000) g;
INSERT INTO devices (user_id, token, platform)
  SELECT u.id, 'tok-' || u.id || '-' || k, 'android'
    FROM users u, generate_series(1, 3) k;
INSERT INTO notifications (user_id, category, title, body, in_app)
  SELECT u.id, 'news', 't', 'b', true FROM users u, generate_series(1, 5) k;
VACUUM ANALYZE;
CREATE TEMP TABLE arrs AS SELECT k, array_agg(id) AS ids FROM (SELECT id, (row_number() OVER (ORDER BY random()) - 1) / 64 AS k FROM users) s GROUP BY k HAVING count(*) = 64;
CREATE OR REPLACE FUNCTION pg_temp.run(newq bool) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; a uuid[]; n bigint; iters int := 0;
BEGIN
  t0 := clock_timestamp();
  FOR a IN SELECT ids FROM arrs ORDER BY k LOOP
    iters := iters + 1;
    IF newq THEN
      SELECT count(b) INTO n FROM (SELECT user_id, token, platform,
        CASE WHEN rank = 1 THEN (COALESCE((SELECT uc.unread FROM notification_unread_counts uc WHERE uc.user_id = d.user_id), 0) - (SELECT count(*) FROM notifications un WHERE un.user_id = d.user_id AND un.in_app AND un.deleted_at IS NULL AND un.read_at IS NULL AND un.send_at > now())) END AS b
        FROM (SELECT user_id, token, platform, row_number() OVER (PARTITION BY user_id ORDER BY last_seen_at DESC, id DESC) AS rank
              FROM devices WHERE user_id = ANY(a) AND active) d WHERE rank <= 50 ORDER BY user_id, rank) q;
    ELSE
      SELECT count(b) INTO n FROM (SELECT user_id, token, platform,
        (COALESCE((SELECT uc.unread FROM notification_unread_counts uc WHERE uc.user_id = d.user_id), 0) - (SELECT count(*) FROM notifications un WHERE un.user_id = d.user_id AND un.in_app AND un.deleted_at IS NULL AND un.read_at IS NULL AND un.send_at > now())) AS b
        FROM (SELECT user_id, token, platform, row_number() OVER (PARTITION BY user_id ORDER BY last_seen_at DESC, id DESC) AS rank
              FROM devices WHERE user_id = ANY(a) AND active) d WHERE rank <= 50 ORDER BY user_id, rank) q;
    END IF;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / iters;
END $$;
SELECT 'batches', count(*) FROM arrs;
SELECT 'three devices: warm-up', pg_temp.run(false), pg_temp.run(true);
SELECT 'three devices: old', pg_temp.run(false); SELECT 'three devices: new', pg_temp.run(true);
SELECT 'three devices: new', pg_temp.run(true); SELECT 'three devices: old', pg_temp.run(false);
SELECT 'three devices: old', pg_temp.run(false); SELECT 'three devices: new', pg_temp.run(true);
SELECT 'three devices: new', pg_temp.run(true); SELECT 'three devices: old', pg_temp.run(false);
UPDATE devices SET active = false WHERE token LIKE '%-2' OR token LIKE '%-3';
VACUUM ANALYZE devices;
SELECT 'one device: warm-up', pg_temp.run(false), pg_temp.run(true);
SELECT 'one device: old', pg_temp.run(false); SELECT 'one device: new', pg_temp.run(true);
SELECT 'one device: new', pg_temp.run(true); SELECT 'one device: old', pg_temp.run(false);
SELECT 'one device: old', pg_temp.run(false); SELECT 'one device: new', pg_temp.run(true);
SELECT 'one device: new', pg_temp.run(true); SELECT 'one device: old', pg_temp.run(false);
