-- bench/seed_growth.sql: functions that fill notifications and deliveries inside PostgreSQL
-- (INSERT ... SELECT generate_series, no row crosses the network), for bench/feed.sh. Loaded
-- into a throw-away bench stack only; nothing here is a migration.
--
--   SELECT bench_seed_users(total)                       users seed-<i>@bench.example, i < total
--   SELECT bench_seed_notifications(first, n, users, u [, read])  n notifications numbered
--        first.. with their deliveries; u NULL: spread over the first `users` seed users, skewed
--        (user floor(users * random()^2): a few heavy users, a long tail); u set: all for user u,
--        a share `read` of them read (default 0.9998).
--
-- Shape of a seeded notification (close to what POST /api/v1/notifications writes): one of
-- five categories, 2 % high priority, a template key and data, title and body rendered, 90 %
-- in-app, 60 % read, 2 % deleted, created over the last 365 days. A single user u: all in-app
-- and by default all read but 0.02 % (about 20 of 100,000: the ?unread=true page must not walk
-- the feed). Deliveries: in_app (sent) for each in-app one, e-mail for 70 %, SMS for 10 %
-- (1.7 per notification), 98 % sent, 1 % failed, 1 % dead, with a provider message id.
CREATE TABLE IF NOT EXISTS bench_seed_users (idx int PRIMARY KEY, id uuid NOT NULL);

CREATE OR REPLACE FUNCTION bench_seed_users(total int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  have int;
BEGIN
  SELECT count(*) INTO have FROM bench_seed_users;
  IF have >= total THEN
    RETURN have;
  END IF;
  INSERT INTO bench_seed_users SELECT i, gen_random_uuid() FROM generate_series(have, total - 1) i;
  INSERT INTO users (id, email, password_hash, name, created_at, updated_at)
  SELECT id, 'seed-' || idx || '@bench.example', '!', 'Seed user ' || idx,
         now() - interval '400 days', now() - interval '400 days'
    FROM bench_seed_users WHERE idx >= have;
  RETURN total;
END $$;

CREATE OR REPLACE FUNCTION bench_seed_notifications(first bigint, n bigint, users int, one_user uuid,
                                                    read_share float8 DEFAULT 0.9998)
RETURNS void LANGUAGE sql AS $$
WITH src AS (
  SELECT s.g, COALESCE(one_user, u.id) AS user_id, s.ts, s.r
    FROM (SELECT g, floor(users * power(random(), 2))::int AS ui,
                 now() - random() * interval '365 days' AS ts, random() AS r
            FROM generate_series(first, first + n - 1) g) s
    LEFT JOIN bench_seed_users u ON one_user IS NULL AND u.idx = s.ui
), n AS (
  INSERT INTO notifications (user_id, category, priority, template_key, data, title, body, locale,
                             in_app, read_at, deleted_at, created_at)
  SELECT user_id, (ARRAY['order', 'billing', 'security', 'social', 'marketing'])[1 + g % 5],
         CASE WHEN g % 50 = 0 THEN 'high' ELSE 'normal' END, 'seed.order',
         jsonb_build_object('name', 'Ada', 'order', 'A-' || g),
         'Order A-' || g || ' shipped',
         'Hello Ada, your order A-' || g || ' is on its way and should arrive within three days.',
         'en', one_user IS NOT NULL OR g % 10 <> 9,
         CASE WHEN r < CASE WHEN one_user IS NULL THEN 0.6 ELSE read_share END
              THEN ts + interval '1 hour' END,
         CASE WHEN g % 50 = 1 THEN ts + interval '2 hours' END, ts
    FROM src
  RETURNING id, user_id, in_app, created_at
)
INSERT INTO deliveries (notification_id, user_id, channel, status, attempts, due_at, provider,
                        provider_message_id, sent_at, created_at, updated_at)
SELECT n.id, n.user_id, c.channel,
       CASE WHEN c.channel = 'in_app' OR c.s < 0.98 THEN 'sent'
            WHEN c.s < 0.99 THEN 'failed' ELSE 'dead' END,
       CASE WHEN c.channel = 'in_app' THEN 0 ELSE 1 END, n.created_at,
       CASE c.channel WHEN 'email' THEN 'smtp' WHEN 'sms' THEN 'twilio' END,
       CASE WHEN c.channel <> 'in_app' THEN md5(n.id::text) END,
       n.created_at + interval '2 seconds', n.created_at, n.created_at + interval '2 seconds'
  FROM n, LATERAL (SELECT ch AS channel, random() AS pick, random() AS s
                     FROM unnest(ARRAY['in_app', 'email', 'sms']) ch
                    WHERE n.id IS NOT NULL) c  -- correlated: fresh random() per notification
 WHERE (c.channel = 'in_app' AND n.in_app) OR (c.channel = 'email' AND c.pick < 0.7)
    OR (c.channel = 'sms' AND c.pick < 0.1)
$$;
