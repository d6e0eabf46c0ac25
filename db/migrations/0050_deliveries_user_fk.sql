-- deliveries.user_id repeats its notification's user_id (written together, never changed), and
-- deliveries_notification_id_fkey already ties each delivery to a notification, whose own
-- foreign key ties it to the user: deleting a user removes its notifications and, through
-- them, their deliveries. The second check on users cost every POST /api/v1/notifications
-- three more foreign-key lookups (one per delivery), about 4 us each.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_user_id_fkey;
