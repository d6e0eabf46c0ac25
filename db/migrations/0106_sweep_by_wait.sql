-- The sweeper finds the queued rows due for another push through an index on what it waits
-- for (common/queue/sweeper.c): the pushes so far and the time of the last one.
--
-- Since migration 0105 a row still queued after a push waits 2, 4, 8 and at most 16 stale ages
-- before the next. deliveries_sweep_idx (status, due_at) gave the sweeper every queued row
-- due before the stale cutoff in due order, so at each pass it read the whole backlog that
-- waited behind stopped workers, to push again the few whose wait had run out (0.2-1.0 s of
-- PostgreSQL per 12 s with 20,000 e-mails waiting; bench/README.md, "twenty-second" and
-- "twenty-third"). deliveries_stale_idx (repushes, updated_at) holds the same rows (the
-- queued ones) keyed by the back-off's level and the time of the last push: one range per
-- level holds exactly the rows due again, in the order they were queued or pushed.
--
-- The scheduled rows keep an index of their own on due_at (promotion, the overdue scheduled,
-- the in-app rows made due). A POST still writes one entry into one of the two indexes per
-- queued or scheduled delivery, as before.
--
-- Plain CREATE INDEX (migrations run in a transaction): writes to deliveries wait while the
-- table is read once for each index (both are partial and small: only the rows waiting).
CREATE INDEX deliveries_stale_idx ON deliveries (repushes, updated_at) WHERE status = 'queued';
CREATE INDEX deliveries_scheduled_idx ON deliveries (due_at) WHERE status = 'scheduled';
DROP INDEX deliveries_sweep_idx;
