-- How many times the sweepers pushed a queued delivery to Redis again since it was last
-- queued. A sweeper cannot tell an id Redis lost from one still waiting behind a backlog, so it
-- pushed every delivery left queued longer than the stale age again, once per stale age: while
-- a channel's workers were stopped, its list gained another copy of every waiting id each
-- minute. With this count the wait before the next push doubles after each one (the stale
-- age, then twice, four times... up to sixteen times it: common/queue/sweeper.c), so an outage
-- of an hour leaves seven copies of an id instead of sixty, and an id Redis really lost is
-- still pushed again within sixteen stale ages. Whatever queues a row again sets it to 0.
-- A column with a constant default: no table rewrite.
ALTER TABLE deliveries ADD COLUMN repushes smallint NOT NULL DEFAULT 0;
