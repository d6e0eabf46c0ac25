-- Each API process keeps copies of users' profiles and token epochs (common/users/
-- profile_cache.h, token_epoch.h) and LISTENs on herald_users to drop them. This trigger sends
-- the notice from the writer's own transaction, so every writer is covered (the API, the
-- workers, herald-api's commands, SQL typed by an operator) and PostgreSQL delivers it only
-- once the change is committed. It fires only when a column of GET /api/v1/users/me's body or
-- the token epoch changed (sign-in counters and password rehashes send nothing), and when a
-- row goes. Repeated notices of one user in one transaction are folded into one by NOTIFY.
CREATE FUNCTION herald_users_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('herald_users', OLD.id::text);
  RETURN NULL;
END
$$;

CREATE TRIGGER users_changed_notice AFTER UPDATE ON users FOR EACH ROW
  WHEN ((OLD.email, OLD.name, OLD.phone, OLD.timezone, OLD.locale, OLD.role, OLD.status,
         OLD.email_verified_at, OLD.created_at, OLD.updated_at, OLD.token_epoch)
        IS DISTINCT FROM
        (NEW.email, NEW.name, NEW.phone, NEW.timezone, NEW.locale, NEW.role, NEW.status,
         NEW.email_verified_at, NEW.created_at, NEW.updated_at, NEW.token_epoch))
  EXECUTE FUNCTION herald_users_changed();

CREATE TRIGGER users_deleted_notice AFTER DELETE ON users FOR EACH ROW
  EXECUTE FUNCTION herald_users_changed();
