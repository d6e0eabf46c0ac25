-- What the workers record beyond the delivery rows of 0004: provider receipts (SMS status
-- callbacks), per-attempt details, and the indexes the runtime's sweeper, reaper and the
-- receipt lookup use.

-- The worker whose claim holds the row (with the fencing token): the reaper only takes
-- back a row from the dead worker that claimed it, never from a live one.
ALTER TABLE deliveries ADD COLUMN claimed_by text;

-- A provider's later word on a message it accepted (e.g. SMS "delivered"/"undelivered").
ALTER TABLE deliveries ADD COLUMN provider_status text;
ALTER TABLE deliveries ADD COLUMN delivered_at timestamptz;

-- Details of one attempt: SMS segments and encoding, push device counts, HTTP status...
ALTER TABLE delivery_events ADD COLUMN meta jsonb;

-- Receipts arrive with the provider's message id only.
CREATE INDEX deliveries_provider_message_idx ON deliveries (provider, provider_message_id)
  WHERE provider_message_id IS NOT NULL;

-- The sweeper looks for rows left 'processing' by a worker that vanished, and for dead
-- letters by age (dlq list / purge).
CREATE INDEX deliveries_processing_idx ON deliveries (updated_at) WHERE status = 'processing';
CREATE INDEX deliveries_dead_idx ON deliveries (channel, updated_at DESC) WHERE status = 'dead';
