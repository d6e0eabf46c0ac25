-- One index entry fewer per notification written (every POST /api/v1/notifications, every
-- send of a broadcast or a topic).
--
-- audit_log_action_idx (action, created_at DESC) serves the operators' GET
-- /api/v1/admin/audit-log?action=. Each notification written adds a `notification.created`
-- row, so that action is most of the log and its entries were most of the index, written for a
-- filter that does not need them: a page of `notification.created` rows is found by reading
-- audit_log_created_at_id_idx backwards and keeping the rows of that action, which are nearly
-- every row it reads. The index now holds every other action's rows; the planner uses it for
-- `action = '<another action>'` because it proves that such a filter implies the index's
-- predicate, which needs the action's value when the plan is made: the API's connections plan
-- every statement with its values (plan_cache_mode=force_custom_plan, h_db_connect).
-- bench/write_levers.sh measured POST alone 1.031x, 1.031x and 1.066x faster without those
-- entries (bench/README.md, "Session of 2026-12-07 (thirtieth)").
--
-- The CREATE INDEX reads audit_log once under a write lock (migrations run in a transaction):
-- on a large installation, run it in a quiet hour.
DROP INDEX audit_log_action_idx;
CREATE INDEX audit_log_action_idx ON audit_log (action, created_at DESC)
  WHERE action <> 'notification.created';
