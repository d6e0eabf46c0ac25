-- The order of a user's feed changes, for the notification stream (docs/streaming.md).
-- event_seq comes from one sequence: set when the row is inserted (DEFAULT) and set again
-- from the sequence by every change a stream reports (read, unread, deleted). A stream
-- resuming after Last-Event-ID L reads the user's rows with event_seq > L in that order.
-- created_seq keeps the value the row was inserted with once event_seq has moved on
-- (NULL while they are equal), so a replay tells a row the client never saw (created)
-- from one it saw change (updated).
-- Rows older than this migration keep a NULL event_seq (no stream reports them); adding the
-- columns without a default and setting the default afterwards rewrites no row.
CREATE SEQUENCE notification_event_seq;
ALTER TABLE notifications ADD COLUMN event_seq bigint, ADD COLUMN created_seq bigint;
ALTER TABLE notifications ALTER COLUMN event_seq SET DEFAULT nextval('notification_event_seq');
CREATE INDEX notifications_user_event_idx ON notifications (user_id, event_seq) WHERE in_app;
