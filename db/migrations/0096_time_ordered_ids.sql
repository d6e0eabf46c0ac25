-- Time-ordered ids (UUID version 7, RFC 9562) for the rows every POST /api/v1/notifications
-- writes. A random (version 4) primary key sends each insert to a random leaf of its B-tree:
-- a descent from the root per row and, after each checkpoint, a full-page image in the WAL for
-- nearly every leaf touched. Ids that grow with time are inserted at the rightmost leaf, which
-- PostgreSQL reaches without a descent (its fast path for the rightmost leaf), and the pages a
-- batch dirties are the same few. The API makes the ids of notifications and deliveries itself
-- (h_uuid_v7 in common/crypto); this function is the default for the rows SQL writes on its
-- own (audit entries, and any notification or delivery inserted without an id).
--
-- 48 bits of Unix time in milliseconds, the version (7) and variant bits, 74 random bits
-- from gen_random_uuid(). The body is one expression, so the planner inlines it.
CREATE FUNCTION herald_uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(set_bit(set_bit(
           overlay(uuid_send(gen_random_uuid())
                   PLACING substring(int8send((date_part('epoch', clock_timestamp()) * 1000)::bigint)
                                     FROM 3)
                   FROM 1 FOR 6),
           52, 1), 53, 1), 'hex')::uuid
$$;

ALTER TABLE notifications ALTER COLUMN id SET DEFAULT herald_uuid_v7();
ALTER TABLE deliveries ALTER COLUMN id SET DEFAULT herald_uuid_v7();
ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT herald_uuid_v7();
