-- The feed's full-text search (GET /api/v1/notifications?q=) and archive.
--
-- search: title and body of in-app notifications as a tsvector in the language of the
-- recipient's locale (herald_ts_config), filled by the insert (notification_repo.c) and
-- queried with the same configuration. One GIN index over the visible feed; a user's rows
-- are picked out of its matches with the feed index (bitmap AND), or, for a term most of
-- the feed holds, the planner walks the feed index newest first and stops at the page.
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

CREATE INDEX notifications_search_idx ON notifications USING gin (search)
  WHERE in_app AND deleted_at IS NULL;
