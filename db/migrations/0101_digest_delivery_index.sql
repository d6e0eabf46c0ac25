-- deliveries.digest_delivery_id (0071) references deliveries ON DELETE SET NULL, and nothing
-- indexed it: every delivery deleted (an account's erasure, the retention sweep, a deleted
-- notification's deliveries) ran the foreign key's action, UPDATE deliveries SET
-- digest_delivery_id = NULL WHERE digest_delivery_id = <the deleted id>, as a sequential scan
-- of the whole table, once per deleted row: 9.1 s to delete 200 deliveries of a 400,000-row
-- table, far past the statement timeout at the sizes the table reaches.
--
-- Only the deliveries a digest carried hold a value, so the index is partial: a POST, whose
-- deliveries hold none, writes nothing to it. The action's condition (a strict =) implies
-- digest_delivery_id IS NOT NULL, so its plan can use it.
--
-- CREATE INDEX takes a write lock on deliveries for the time of the build (migrations run in
-- a transaction): one pass over the table; on a large installation, run it in a quiet hour.
CREATE INDEX deliveries_digest_delivery_idx ON deliveries (digest_delivery_id)
  WHERE digest_delivery_id IS NOT NULL;
