-- herald_ts_config as a function the planner inlines. Its body cast text to regconfig, and
-- that cast (regconfigin, a catalog lookup) is only STABLE: an IMMUTABLE SQL function whose
-- body is not immutable is never inlined, so every in-app row of a POST ran the function
-- through the SQL-function executor (the body parsed and planned per statement, the name
-- looked up per row). With the configurations written as regconfig constants (resolved to
-- their oids when this body is parsed) the body is immutable and the call becomes a CASE
-- inside the statement. Same mapping as 0062.
CREATE OR REPLACE FUNCTION herald_ts_config(locale text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE lower(split_part(replace(COALESCE(locale, ''), '_', '-'), '-', 1))
    WHEN 'en' THEN 'english'::regconfig WHEN 'de' THEN 'german'::regconfig
    WHEN 'fr' THEN 'french'::regconfig WHEN 'es' THEN 'spanish'::regconfig
    WHEN 'pt' THEN 'portuguese'::regconfig WHEN 'it' THEN 'italian'::regconfig
    WHEN 'nl' THEN 'dutch'::regconfig WHEN 'sv' THEN 'swedish'::regconfig
    WHEN 'da' THEN 'danish'::regconfig WHEN 'fi' THEN 'finnish'::regconfig
    WHEN 'nb' THEN 'norwegian'::regconfig WHEN 'no' THEN 'norwegian'::regconfig
    WHEN 'ru' THEN 'russian'::regconfig WHEN 'hu' THEN 'hungarian'::regconfig
    WHEN 'ro' THEN 'romanian'::regconfig WHEN 'tr' THEN 'turkish'::regconfig
    ELSE 'simple'::regconfig END
$$;
