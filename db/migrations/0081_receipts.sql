-- Receipts: every payment that succeeds gets a receipt number, sequential per calendar year
-- (UTC) with no gaps: one counter row per year, incremented in the same transaction that
-- moves the payment to succeeded (a rolled-back transaction gives its number back; the row
-- lock orders concurrent successes). A sequence would leave gaps, so none is used.
CREATE TABLE receipt_counters (
  year        integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 9999),
  last_number integer NOT NULL CHECK (last_number >= 1)
);

ALTER TABLE payments ADD COLUMN receipt_number text UNIQUE
                       CHECK (receipt_number ~ '^[0-9]{4}-[0-9]{6,}$'),
                     ADD COLUMN receipt_issued_at timestamptz;
