-- The search tsvector back to the default statistics target (0062 set 1000). At 1000 every
-- ANALYZE of notifications sampled 300,000 rows (300 x the largest target of the table's
-- columns) and computed every column's statistics over them: 2.9-3.1 s at 480,000 rows, and
-- autovacuum runs it each time a tenth of the table is new, on the commits' cores. At the
-- default, 30,000 rows: 0.23-0.27 s at 525,000 rows. The feed search keeps its plans (a
-- common word walks the feed, a medium or rare one reads its matches from
-- notifications_search_idx: bench/feed_search.sh, bench/README.md); 10 was too low for that.
ALTER TABLE notifications ALTER COLUMN search SET STATISTICS -1;
