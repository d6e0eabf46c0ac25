/* user_service.c - account management rules and transactions. */
#include "users/user_service.h"

#include <stdlib.h>
#include <string.h>

#include "alerts/security_alert.h"
#include "core/alloc.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "users/profile_cache.h"
#include "users/token_epoch.h"
#include "users/privacy_repo.h"
#include "users/token_repo.h"

struct op {
  const struct h_actor *actor;
  const char *id, *role, *status, *name;
  const struct h_profile_patch *patch;
  const struct h_page *page;
  const char *email_prefix;
  json_t *out;
  bool more;
  struct h_push_list alerts; /* security alerts to push after COMMIT */
};

static h_result get_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_user_repo_get(c, o->id, &o->out);
}

h_result h_user_get(struct h_app *app, const char *id, json_t **user) {
  struct op o = {.id = id};
  h_result r = h_db_run(app->db, get_tx, &o);
  *user = o.out;
  return r;
}

h_result h_user_profile(struct h_app *app, const char *id, char **body) {
  struct h_copy_ticket t;
  *body = h_copy_cache_get(app->profiles, id, 0, &t);
  if (*body != NULL) {
    return H_OK;
  }
  json_t *user = NULL;
  h_result r = h_user_get(app, id, &user);
  if (r == H_OK) {
    *body = json_dumps(user, JSON_COMPACT);
    h_copy_cache_put(app->profiles, id, 0, *body, -1, &t);
  }
  json_decref(user);
  return r;
}

static h_result update_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_user_repo_update_profile(c, o->id, o->patch, &o->out);
  return r == H_OK ? h_audit_write(c, o->actor, "user.updated", "user", o->id, NULL, false) : r;
}

h_result h_user_update_profile(struct h_app *app, const struct h_actor *actor, const char *id,
                               const struct h_profile_patch *patch, json_t **user) {
  struct op o = {.actor = actor, .id = id, .patch = patch};
  h_result r = h_db_tx_json(app->db, update_tx, &o, &o.out, user);
  if (r == H_OK) {
    h_copy_cache_drop(app->profiles, id);
  }
  return r;
}

/* Anonymises the account and erases what it holds (users/privacy_repo.h); the audit row of
 * the deletion is written first, so it is stripped like the others. */
static h_result delete_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_user_repo_anonymize(c, o->id);
  if (r == H_OK) {
    r = h_audit_write(c, o->actor, "user.deleted", "user", o->id, NULL, true);
  }
  if (r == H_OK) {
    r = h_user_repo_bump_epoch(c, o->id, NULL);
  }
  return r == H_OK ? h_privacy_repo_erase(c, o->id) : r;
}

h_result h_user_delete(struct h_app *app, const struct h_actor *actor, const char *id) {
  struct op o = {.actor = actor, .id = id};
  h_result r = h_db_tx(app->db, delete_tx, &o);
  if (r == H_OK) {
    h_token_epoch_forget(app, id);
  }
  return r;
}

static h_result export_tx(PGconn *c, void *a) {
  struct op *o = a;
  json_t *user = NULL;
  h_result r = h_user_repo_get(c, o->id, &user);
  if (r != H_OK) {
    return r;
  }
  o->out = json_pack("{ssssssssso}", "object", "user_export", "generated_at", "", "format",
                     "herald.v1", "note", "Everything Herald stores about this account.",
                     "user", user);
  r = h_privacy_repo_export(c, o->id, o->out);
  if (r == H_OK) {
    PGresult *res = NULL;
    r = h_db_exec(c, "SELECT " H_SQL_TS("now()"), 0, NULL, &res);
    if (r == H_OK) {
      json_object_set_new(o->out, "generated_at", json_string(PQgetvalue(res, 0, 0)));
      PQclear(res);
    }
  }
  return r == H_OK ? h_audit_write(c, o->actor, "user.exported", "user", o->id, NULL, false) : r;
}

h_result h_user_export(struct h_app *app, const struct h_actor *actor, const char *id,
                       json_t **doc) {
  struct op o = {.actor = actor, .id = id};
  return h_db_tx_json(app->db, export_tx, &o, &o.out, doc);
}

static h_result list_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_user_repo_list(c, o->email_prefix, o->role, o->status, o->page, &o->out, &o->more);
}

h_result h_user_list(struct h_app *app, const char *email_prefix, const char *role,
                     const char *status, const struct h_page *page, json_t **data,
                     bool *has_more) {
  struct op o = {.email_prefix = email_prefix, .role = role, .status = status, .page = page};
  h_result r = h_db_run(app->db, list_tx, &o);
  *data = o.out;
  *has_more = o.more;
  return r;
}

static h_result admin_update_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_user_repo_admin_update(c, o->id, o->role, o->status, &o->out);
  if (r == H_OK && o->status != NULL && strcmp(o->status, "disabled") == 0) {
    r = h_refresh_revoke_user(c, o->id);
  }
  /* Access tokens carry the role: every one issued before the change stops now. */
  if (r == H_OK) {
    r = h_user_repo_bump_epoch(c, o->id, NULL);
  }
  if (r == H_OK) {
    json_t *d = json_pack("{s:s*,s:s*}", "role", o->role, "status", o->status);
    r = h_audit_write(c, o->actor, o->role != NULL ? "user.role_changed" : "user.status_changed",
                      "user", o->id, d, true);
    json_decref(d);
  }
  return r;
}

h_result h_user_admin_update(struct h_app *app, const struct h_actor *actor, const char *id,
                             const char *role, const char *status, json_t **user) {
  struct op o = {.actor = actor, .id = id, .role = role, .status = status};
  h_result r = h_db_tx_json(app->db, admin_update_tx, &o, &o.out, user);
  if (r == H_OK) {
    h_token_epoch_forget(app, id);
  }
  return r;
}

static h_result key_create_tx(PGconn *c, void *a) {
  struct op *o = a;
  char *random = h_random_token(32);
  char *secret = h_sprintf(H_API_KEY_PREFIX "%s", random);
  char hash[65], prefix[16];
  h_sha256_hex(secret, strlen(secret), hash);
  snprintf(prefix, sizeof(prefix), "%.11s", secret);
  const char *created_by = strcmp(o->actor->type, "user") == 0 ? o->actor->id : NULL;
  h_result r = h_api_key_insert(c, o->name, prefix, hash, created_by, &o->out);
  if (r == H_OK) {
    json_object_set_new(o->out, "secret", json_string(secret));
    json_t *d = json_pack("{ss}", "name", o->name);
    r = h_audit_write(c, o->actor, "api_key.created", "api_key",
                      json_string_value(json_object_get(o->out, "id")), d, true);
    json_decref(d);
  }
  if (r == H_OK && created_by != NULL) {
    r = h_security_alert(c, created_by, H_SEC_API_KEY_CREATED, o->actor, o->name, &o->alerts);
  }
  free(secret);
  free(random);
  return r;
}

h_result h_api_key_create(struct h_app *app, const struct h_actor *actor, const char *name,
                          json_t **key) {
  struct op o = {.actor = actor, .name = name};
  h_result r = h_db_tx_json(app->db, key_create_tx, &o, &o.out, key);
  h_security_alert_push(app, r, actor->id, &o.alerts, actor->request_id);
  return r;
}

static h_result key_list_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_api_key_list(c, o->page, &o->out, &o->more);
}

h_result h_api_key_list_all(struct h_app *app, const struct h_page *page, json_t **data,
                            bool *has_more) {
  struct op o = {.page = page};
  h_result r = h_db_run(app->db, key_list_tx, &o);
  *data = o.out;
  *has_more = o.more;
  return r;
}

static h_result key_delete_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_api_key_revoke(c, o->id);
  return r == H_OK ? h_audit_write(c, o->actor, "api_key.revoked", "api_key", o->id, NULL, true)
                   : r;
}

h_result h_api_key_remove(struct h_app *app, const struct h_actor *actor, const char *id) {
  struct op o = {.actor = actor, .id = id};
  return h_db_tx(app->db, key_delete_tx, &o);
}

h_result h_api_key_verify(struct h_app *app, const char *key, char id[37]) {
  char hash[65];
  h_sha256_hex(key, strlen(key), hash);
  PGconn *conn = NULL;
  h_result r = h_db_acquire(app->db, &conn);
  if (r == H_OK) {
    r = h_api_key_touch(conn, hash, id);
  }
  h_db_release(app->db, conn);
  return r;
}

/* The admin's row for h_user_upsert_admin, inside its transaction. */
static h_result upsert_admin_tx(PGconn *conn, const char *email, const char *hash,
                                bool take_over, char id[37], enum h_admin_outcome *outcome) {
  char role[16];
  h_result r = h_user_repo_lock_by_email(conn, email, id, role);
  if (r == H_ERR_NOT_FOUND) {
    *outcome = H_ADMIN_CREATED;
    return h_user_repo_insert_admin(conn, email, hash, id);
  }
  if (r != H_OK) {
    return r;
  }
  bool admin = strcmp(role, "admin") == 0;
  if (!admin && !take_over) {
    return H_ERR_CONFLICT;
  }
  *outcome = admin ? H_ADMIN_RESET : H_ADMIN_TAKEN_OVER;
  r = h_user_repo_make_admin(conn, id, hash);
  r = r == H_OK ? h_refresh_revoke_user(conn, id) : r;
  return r == H_OK ? h_user_repo_bump_epoch(conn, id, NULL) : r;
}

h_result h_user_upsert_admin(PGconn *conn, const char *email, const char *password,
                             bool take_over, char id[37], enum h_admin_outcome *outcome) {
  char *hash = NULL;
  h_result r = h_password_hash(password, &hash);
  if (r == H_OK && (r = h_db_begin(conn)) == H_OK) {
    r = upsert_admin_tx(conn, email, hash, take_over, id, outcome);
    r = r == H_OK ? h_db_commit(conn) : r;
    if (r != H_OK) {
      h_db_rollback(conn);
    }
  }
  free(hash);
  return r;
}
