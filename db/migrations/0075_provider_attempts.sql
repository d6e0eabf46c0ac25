-- Every provider call of a delivery, oldest first: the workers append one element per call
-- ({"attempt", "provider", "status": sent|retry|failed|skipped|breaker_open, "error"?,
-- "duration_ms", "at"}), so a job that failed over from one provider to the next shows
-- both calls; deliveries.provider stays the provider whose answer settled it.
ALTER TABLE deliveries ADD COLUMN provider_attempts jsonb NOT NULL DEFAULT '[]'::jsonb;
