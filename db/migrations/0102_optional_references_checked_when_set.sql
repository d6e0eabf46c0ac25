-- Three foreign keys reference a row only now and then: notifications.broadcast_id (a
-- broadcast's notifications), deliveries.endpoint_id (webhook deliveries) and
-- deliveries.digest_delivery_id (set once a digest carried the delivery). A POST
-- /api/v1/notifications writes none of them, yet PostgreSQL queues a foreign key's check for
-- every row inserted, NULL key or not, and runs it after the statement: seven per POST (its
-- notification and three deliveries), each a queued event, a fetch of the new row and a call
-- that finds the key NULL. Without them PostgreSQL's instructions per POST fell from 824,232
-- to 767,885, 6.8 % (callgrind, bench/instructions_post.sh; bench/README.md, "Session of
-- 2026-12-05 (thirteenth)").
--
-- Each key becomes what it did, written so that a NULL costs nothing:
--   * the check: a row trigger with WHEN (the key IS NOT NULL), which PostgreSQL evaluates
--     before it queues anything; it locks the referenced row FOR KEY SHARE, as the key's own
--     check does (a concurrent delete waits for the inserting transaction, or the insert
--     fails), and fails with foreign_key_violation (23503), as the key did;
--   * ON DELETE SET NULL: a statement trigger on the referenced table, over the deleted rows
--     (a transition table), through the partial index on the key (0101 for the digest).
-- Ids are never updated, so the keys' NO ACTION on an update of the referenced id is not
-- carried over.

CREATE FUNCTION herald_broadcast_referenced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM broadcasts WHERE id = NEW.broadcast_id FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE foreign_key_violation
      USING MESSAGE = 'notifications.broadcast_id references no broadcast',
            DETAIL = format('Key (broadcast_id)=(%s) is not present in table "broadcasts".',
                            NEW.broadcast_id);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION herald_endpoint_referenced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM webhook_endpoints WHERE id = NEW.endpoint_id FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE foreign_key_violation
      USING MESSAGE = 'deliveries.endpoint_id references no webhook endpoint',
            DETAIL = format('Key (endpoint_id)=(%s) is not present in table "webhook_endpoints".',
                            NEW.endpoint_id);
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION herald_digest_referenced() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM deliveries WHERE id = NEW.digest_delivery_id FOR KEY SHARE;
  IF NOT FOUND THEN
    RAISE foreign_key_violation
      USING MESSAGE = 'deliveries.digest_delivery_id references no delivery',
            DETAIL = format('Key (digest_delivery_id)=(%s) is not present in table "deliveries".',
                            NEW.digest_delivery_id);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER notifications_broadcast_referenced
  AFTER INSERT OR UPDATE OF broadcast_id ON notifications
  FOR EACH ROW WHEN (NEW.broadcast_id IS NOT NULL)
  EXECUTE FUNCTION herald_broadcast_referenced();
CREATE TRIGGER deliveries_endpoint_referenced
  AFTER INSERT OR UPDATE OF endpoint_id ON deliveries
  FOR EACH ROW WHEN (NEW.endpoint_id IS NOT NULL)
  EXECUTE FUNCTION herald_endpoint_referenced();
CREATE TRIGGER deliveries_digest_referenced
  AFTER INSERT OR UPDATE OF digest_delivery_id ON deliveries
  FOR EACH ROW WHEN (NEW.digest_delivery_id IS NOT NULL)
  EXECUTE FUNCTION herald_digest_referenced();

-- One function clears the references of all three: TG_ARGV names the referring table and
-- column. Deletes are rare, so its statement is planned at each call (the checks above, run
-- for every fan-out row, are written out one per reference instead).
CREATE FUNCTION herald_clear_references() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('UPDATE %I SET %I = NULL WHERE %I IS NOT NULL AND %I IN (SELECT id FROM gone)',
                 TG_ARGV[0], TG_ARGV[1], TG_ARGV[1], TG_ARGV[1]);
  RETURN NULL;
END
$$;

CREATE TRIGGER broadcasts_clear_references AFTER DELETE ON broadcasts
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION herald_clear_references('notifications', 'broadcast_id');
CREATE TRIGGER webhook_endpoints_clear_references AFTER DELETE ON webhook_endpoints
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION herald_clear_references('deliveries', 'endpoint_id');
CREATE TRIGGER deliveries_clear_digest_references AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT
  EXECUTE FUNCTION herald_clear_references('deliveries', 'digest_delivery_id');

ALTER TABLE notifications DROP CONSTRAINT notifications_broadcast_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_endpoint_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_digest_delivery_id_fkey;
