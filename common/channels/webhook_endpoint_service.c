/* webhook_endpoint_service.c - webhook endpoint rules and transactions. */
#include "channels/webhook_endpoint_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/webhook_endpoint_repo.h"
#include "core/alloc.h"
#include "core/log.h"
#include "crypto/webhook_sig.h"
#include "net/netaddr.h"
#include "notifications/outbox.h"
#include "queue/queue.h"
#include "store/db.h"

#define NOTIFY_BATCH 50

bool h_endpoint_format_valid(const char *format) {
  return format != NULL && (strcmp(format, "json") == 0 || strcmp(format, "slack") == 0 ||
                            strcmp(format, "discord") == 0);
}

h_result h_endpoint_check_url(const struct h_config *cfg, const char *url, struct h_error *err) {
  struct h_net_target t;
  const char *reason = NULL;
  if (h_net_parse_url(url, cfg->webhook_allow_http, &t, &reason) != H_OK) {
    const char *msg = strcmp(reason, "https_required") == 0
                          ? "Must be an https:// URL."
                          : strcmp(reason, "credentials_in_url") == 0
                                ? "Must not carry a user name or password."
                                : "Must be an absolute https:// URL without a fragment.";
    return h_error_set(err, H_ERR_INVALID, reason, msg, "url");
  }
  struct h_net_allow allow;
  char *why = NULL, addr[64];
  if (h_net_allow_parse(cfg->webhook_allow_nets, &allow, &why) != H_OK) {
    free(why); /* validated at start */
    return h_error_set(err, H_ERR_INTERNAL, NULL, "The address allow-list is invalid.", NULL);
  }
  h_result r = h_net_resolve_checked(&t, &allow, addr, &reason);
  h_net_allow_free(&allow);
  if (r == H_ERR_UNAVAILABLE) {
    return h_error_set(err, H_ERR_INVALID, "unresolvable_host",
                       "The host name does not resolve.", "url");
  }
  if (r != H_OK) {
    char msg[160];
    snprintf(msg, sizeof(msg), "The host resolves to an address that may not be reached (%s).",
             reason);
    return h_error_set(err, H_ERR_INVALID, "address_not_allowed", msg, "url");
  }
  return H_OK;
}

struct op {
  const struct h_actor *actor;
  const char *owner, *id;
  const struct h_endpoint_input *in;
  const struct h_idem *idem;
  const struct h_page *page;
  const struct h_config *cfg;
  struct h_error *err;
  json_t *out;
  bool more;
};

/* The audit details of an endpoint object (new reference). */
static json_t *audit_details(const json_t *endpoint) {
  return json_pack("{sOsOsO}", "url", json_object_get(endpoint, "url"), "format",
                   json_object_get(endpoint, "format"), "system",
                   json_object_get(endpoint, "system"));
}

static h_result audit(PGconn *c, const struct op *o, const char *action) {
  json_t *d = audit_details(o->out);
  const char *id = o->id != NULL ? o->id : json_string_value(json_object_get(o->out, "id"));
  h_result r = h_audit_write(c, o->actor, action, "webhook_endpoint", id, d, false);
  json_decref(d);
  return r;
}

static h_result create_tx(PGconn *c, void *a) {
  struct op *o = a;
  int n = 0;
  h_result r = h_endpoint_repo_count_locked(c, o->owner, &n);
  if (r == H_OK && n >= o->cfg->webhook_max_endpoints) {
    char msg[128];
    snprintf(msg, sizeof(msg), "At most %d webhook endpoints may be registered.",
             o->cfg->webhook_max_endpoints);
    return h_error_set(o->err, H_ERR_UNPROCESSABLE, "too_many_endpoints", msg, NULL);
  }
  char *secret = h_whsec_generate();
  struct h_endpoint_row row = {o->owner, o->actor->id, o->in->url,
                               o->in->format != NULL ? o->in->format : "json",
                               o->in->description, o->in->categories, secret};
  if (r == H_OK) {
    r = h_endpoint_repo_insert(c, &row, &o->out);
  }
  free(secret);
  if (r == H_OK) {
    r = audit(c, o, "webhook_endpoint.created");
  }
  return r == H_OK ? h_idem_complete(c, o->idem, H_OUTCOME_CREATED, o->out) : r;
}

h_result h_endpoint_create(struct h_app *app, const struct h_actor *actor, const char *owner,
                           const struct h_endpoint_input *in, const struct h_idem *idem,
                           json_t **endpoint, struct h_error *err) {
  memset(err, 0, sizeof(*err));
  *endpoint = NULL;
  h_result r = h_endpoint_check_url(app->cfg, in->url, err);
  if (r != H_OK) {
    return r;
  }
  struct op o = {.actor = actor, .owner = owner, .in = in, .idem = idem, .cfg = app->cfg,
                 .err = err};
  return h_db_tx_json(app->db, create_tx, &o, &o.out, endpoint);
}

static h_result list_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_endpoint_repo_list(c, o->owner, o->page, &o->out, &o->more);
}

h_result h_endpoint_list(struct h_app *app, const char *owner, const struct h_page *page,
                         json_t **data, bool *has_more) {
  struct op o = {.owner = owner, .page = page};
  h_result r = h_db_run_json(app->db, list_tx, &o, &o.out, data);
  *has_more = o.more;
  return r;
}

static h_result remove_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_endpoint_repo_delete(c, o->id, o->owner);
  return r == H_OK ? h_audit_write(c, o->actor, "webhook_endpoint.deleted", "webhook_endpoint",
                                   o->id, NULL, false)
                   : r;
}

h_result h_endpoint_remove(struct h_app *app, const struct h_actor *actor, const char *owner,
                           const char *id) {
  struct op o = {.actor = actor, .owner = owner, .id = id};
  return h_db_tx(app->db, remove_tx, &o);
}

static h_result rotate_tx(PGconn *c, void *a) {
  struct op *o = a;
  char *secret = h_whsec_generate();
  h_result r = h_endpoint_repo_rotate(c, o->id, o->owner, secret, o->cfg->webhook_secret_grace_s,
                                      &o->out);
  free(secret);
  return r == H_OK ? audit(c, o, "webhook_endpoint.secret_rotated") : r;
}

h_result h_endpoint_rotate(struct h_app *app, const struct h_actor *actor, const char *owner,
                           const char *id, json_t **endpoint) {
  struct op o = {.actor = actor, .owner = owner, .id = id, .cfg = app->cfg};
  return h_db_tx_json(app->db, rotate_tx, &o, &o.out, endpoint);
}

static h_result enable_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_endpoint_repo_enable(c, o->id, o->owner, &o->out);
  if (r == H_OK) {
    r = h_endpoint_check_url(o->cfg, json_string_value(json_object_get(o->out, "url")), o->err);
  }
  return r == H_OK ? audit(c, o, "webhook_endpoint.enabled") : r;
}

h_result h_endpoint_enable(struct h_app *app, const struct h_actor *actor, const char *owner,
                           const char *id, json_t **endpoint, struct h_error *err) {
  memset(err, 0, sizeof(*err));
  struct op o = {.actor = actor, .owner = owner, .id = id, .cfg = app->cfg, .err = err};
  return h_db_tx_json(app->db, enable_tx, &o, &o.out, endpoint);
}

/* E-mails the owner of one disabled endpoint (row of h_endpoint_repo_take_disabled);
 * delivery receives the e-mail's delivery id, "" when there is no one to tell. */
static h_result tell_owner(PGconn *c, const json_t *row, char delivery[37]) {
  static const struct h_actor system = {.type = "system"};
  const char *id = json_string_value(json_object_get(row, "id"));
  const char *owner = json_string_value(json_object_get(row, "owner"));
  const char *url = json_string_value(json_object_get(row, "url"));
  json_int_t failures = json_integer_value(json_object_get(row, "failures"));
  delivery[0] = '\0';
  json_t *d = json_pack("{sssIss}", "endpoint_id", id, "failures", failures, "url", url);
  h_result r = h_audit_write(c, &system, "webhook_endpoint.disabled", "webhook_endpoint", id, d,
                             false);
  if (r == H_OK && owner != NULL) {
    char *body = h_sprintf("Herald stopped sending to your webhook endpoint %s after %lld failed"
                           " attempts in a row. Fix the receiver, then enable the endpoint again"
                           " (POST .../webhook-endpoints/%s/enable).",
                           url, (long long)failures, id);
    r = h_outbox_email(c, owner, "account", "webhook_endpoint_disabled",
                       "A webhook endpoint was disabled", body, d, delivery);
    free(body);
  }
  json_decref(d);
  return r;
}

h_result h_endpoint_notify_disabled(PGconn *conn, struct h_redis *redis, long *told) {
  json_t *rows = NULL;
  h_result r = h_db_begin(conn);
  if (r == H_OK) {
    r = h_endpoint_repo_take_disabled(conn, NOTIFY_BATCH, &rows);
  }
  size_t n = json_array_size(rows), k = 0;
  char (*ids)[37] = h_calloc(n + 1, sizeof(*ids));
  for (size_t i = 0; r == H_OK && i < n; i++) {
    r = tell_owner(conn, json_array_get(rows, i), ids[k]);
    k += ids[k][0] != '\0';
  }
  r = r == H_OK ? h_db_commit(conn) : r;
  if (r != H_OK) {
    h_db_rollback(conn);
  }
  for (size_t i = 0; r == H_OK && i < k; i++) {
    const char *one[] = {ids[i]};
    if (h_queue_push(redis, H_QUEUE_EMAIL, one, 1) != H_OK) {
      h_log_warning("webhooks: e-mail %s not pushed (Redis); the sweeper re-pushes it", ids[i]);
    }
  }
  if (told != NULL) {
    *told = r == H_OK ? (long)n : 0;
  }
  free(ids);
  json_decref(rows);
  return r;
}
