-- The feed's full-text search (GET /api/v1/notifications?q=) and archive.
--
-- search: title and body of in-app notifications as a tsvector in the language of the
-- recipient's locale (herald_ts_config), filled by the insert (notification_repo.c) and
-- queried with the same configuration, passed as a constant so that the planner knows the
-- words: for a term much of the feed holds it walks the feed index newest first and stops
-- at the page; for a rarer one it reads the user's matches from the GIN index below.
-- archived_at: archived notifications leave the default feed (?archived=true lists them);
-- archiving marks read too, so the unread count and its index need no change.
CREATE FUNCTION herald_ts_config(locale text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT (CASE lower(split_part(replace(COALESCE(locale, ''), '_', '-'), '-', 1))
    WHEN 'en' THEN 'english' WHEN 'de' THEN 'german' WHEN 'fr' THEN 'french'
    WHEN 'es' THEN 'spanish' WHEN 'pt' THEN 'portuguese' WHEN 'it' THEN 'italian'
    WHEN 'nl' THEN 'dutch' WHEN 'sv' THEN 'swedish' WHEN 'da' THEN 'danish'
    WHEN 'fi' THEN 'finnish' WHEN 'nb' THEN 'norwegian' WHEN 'no' THEN 'norwegian'
    WHEN 'ru' THEN 'russian' WHEN 'hu' THEN 'hungarian' WHEN 'ro' THEN 'romanian'
    WHEN 'tr' THEN 'turkish' ELSE 'simple' END)::regconfig
$$;

ALTER TABLE notifications ADD COLUMN search tsvector, ADD COLUMN archived_at timestamptz;

UPDATE notifications n
   SET search = to_tsvector(herald_ts_config(u.locale),
                            COALESCE(n.title, '') || ' ' || COALESCE(n.body, ''))
  FROM users u
 WHERE u.id = n.user_id AND n.in_app AND NOT n.sensitive;

-- (user_id, search) in one GIN index (btree_gin, a trusted extension): a search reads only
-- the user's matches, so a rare word costs its matches, not a walk of the whole feed.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX notifications_search_idx ON notifications USING gin (user_id, search)
  WHERE in_app AND deleted_at IS NULL;
ALTER TABLE notifications ALTER COLUMN search SET STATISTICS 1000;
