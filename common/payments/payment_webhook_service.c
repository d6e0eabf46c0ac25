/* payment_webhook_service.c - provider events -> payments and refunds. */
#include "payments/payment_webhook_service.h"

#include <stdio.h>
#include <string.h>

#include "billing/subscription_events.h"
#include "core/alloc.h"
#include "core/log.h"
#include "payments/dispute_service.h"
#include "payments/payment_event_repo.h"
#include "payments/payment_internal.h"
#include "payments/payment_sync.h"

enum kind { KIND_OTHER, KIND_INTENT, KIND_REFUND, KIND_DISPUTE };

struct hook_ctx {
  struct h_app *app;
  struct h_actor actor;
  const char *event_id;
  const char *type;
  const json_t *object;
  enum kind kind;
  struct h_provider_payment pi;
  struct h_provider_refund refund;
  struct h_payment_notices notices;
  json_t *admin_notices; /* dispute e-mails to admins: delivery ids to push after COMMIT */
  struct h_provider prov;
  bool configured; /* the provider has credentials: fetches are possible */
  const char *outcome;
};

static enum kind kind_of(const char *type) {
  if (strncmp(type, "payment_intent.", 15) == 0) {
    return KIND_INTENT;
  }
  if (strncmp(type, "refund.", 7) == 0 || strcmp(type, "charge.refund.updated") == 0) {
    return KIND_REFUND;
  }
  if (strncmp(type, "charge.dispute.", 15) == 0) {
    return KIND_DISPUTE;
  }
  return KIND_OTHER;
}

static const char *outcome_of(enum h_transition t) {
  switch (t) {
  case H_TRANSITION_APPLY:
    return "applied";
  case H_TRANSITION_SAME:
    return "unchanged";
  case H_TRANSITION_IGNORE:
    return "stale";
  case H_TRANSITION_REFETCH:
    return "refetch";
  }
  return "ignored";
}

/* Applies the event's object (or, with source FETCH, the fetched one) to the rows. */
static h_result apply_object(PGconn *conn, struct hook_ctx *c, enum h_sync_source source) {
  enum h_transition t = H_TRANSITION_IGNORE;
  h_result r = H_OK;
  if (c->kind == KIND_INTENT) {
    struct h_payment row;
    r = h_payment_repo_lock_by_intent(conn, c->pi.id, c->pi.herald_payment_id, &row);
    if (r == H_OK) {
      r = h_payment_sync_intent(conn, &c->actor, &row, &c->pi, source, &c->notices, &t);
    }
  } else if (c->kind == KIND_REFUND) {
    r = h_payment_sync_refund(conn, &c->actor, &c->refund, source, &c->notices, &t);
  } else if (c->kind == KIND_DISPUTE) {
    return h_dispute_apply_event(conn, &c->prov, &c->actor, c->object, c->admin_notices,
                                 &c->outcome);
  } else {
    c->outcome = "ignored";
    return H_OK;
  }
  if (r == H_ERR_NOT_FOUND) {
    c->outcome = "unknown_object";
    return H_OK;
  }
  c->outcome = source == H_SYNC_FETCH && t == H_TRANSITION_APPLY ? "refetched" : outcome_of(t);
  return r;
}

/* One transaction: claims the event and applies it, unless applied before. */
static h_result apply_tx(struct hook_ctx *c, enum h_sync_source source, const char *raw,
                         long long created, bool *duplicate) {
  PGconn *conn = NULL;
  h_result r = h_db_tx_begin(c->app->db, &conn);
  if (r == H_OK) {
    const char *object_id = json_string_value(json_object_get(c->object, "id"));
    r = h_payment_event_claim(conn, c->event_id, c->type, object_id, created, raw, duplicate);
  }
  if (r == H_OK && !*duplicate) {
    r = apply_object(conn, c, source);
  }
  if (r == H_OK && !*duplicate && strcmp(c->outcome, "refetch") != 0) {
    r = h_payment_event_finish(conn, c->event_id, c->outcome);
  }
  return h_db_tx_finish(c->app->db, conn, r);
}

/* Fetches the current state of the event's object. */
static h_result refetch(struct hook_ctx *c) {
  const struct h_provider *prov = &c->prov;
  if (!c->configured) {
    return H_ERR_UNAVAILABLE;
  }
  if (c->kind == KIND_INTENT) {
    char id[H_PROVIDER_ID_LEN];
    snprintf(id, sizeof(id), "%s", c->pi.id);
    return prov->ops->payment_fetch(prov, id, &c->pi, NULL);
  }
  char id[H_PROVIDER_ID_LEN], herald_id[40];
  snprintf(id, sizeof(id), "%s", c->refund.id);
  snprintf(herald_id, sizeof(herald_id), "%s", c->refund.herald_refund_id);
  h_result r = prov->ops->refund_fetch(prov, id, &c->refund, NULL);
  if (r == H_OK && c->refund.herald_refund_id[0] == '\0') {
    snprintf(c->refund.herald_refund_id, sizeof(c->refund.herald_refund_id), "%s", herald_id);
  }
  return r;
}

/* Reads id, type and data.object; false when the body is not an event. */
static bool parse_event(struct hook_ctx *c, const json_t *event) {
  c->event_id = json_string_value(json_object_get(event, "id"));
  c->type = json_string_value(json_object_get(event, "type"));
  c->object = json_object_get(json_object_get(event, "data"), "object");
  if (c->event_id == NULL || c->event_id[0] == '\0' || strlen(c->event_id) > 255 ||
      c->type == NULL || !json_is_object(c->object)) {
    return false;
  }
  c->kind = kind_of(c->type);
  if (c->kind == KIND_INTENT && c->prov.ops->payment_read(c->object, &c->pi) != H_OK) {
    c->kind = KIND_OTHER;
  }
  if (c->kind == KIND_REFUND && c->prov.ops->refund_read(c->object, &c->refund) != H_OK) {
    c->kind = KIND_OTHER;
  }
  return true;
}

h_result h_payment_webhook_apply(struct h_app *app, const char *ip, const char *request_id,
                                 const json_t *event, const char *raw, size_t raw_len,
                                 json_t **receipt, struct h_error *err) {
  struct hook_ctx c = {.app = app, .actor = h_payment_system_actor(ip, request_id),
                       .admin_notices = json_array()};
  memset(err, 0, sizeof(*err));
  *receipt = NULL;
  c.configured = h_provider_init_named(&c.prov, app->cfg, "stripe", request_id); /* its shape */
  if (!parse_event(&c, event)) {
    json_decref(c.admin_notices);
    return h_error_set(err, H_ERR_INVALID, "invalid_event",
                       "The body is not an event: id, type and data.object are required.", NULL);
  }
  char *text = h_strndup(raw, raw_len);
  if (h_billing_event_type(c.type)) {
    json_decref(c.admin_notices);
    h_result b = h_billing_event_apply(app, &c.prov, &c.actor, event, text, receipt, err);
    free(text);
    return b;
  }
  long long created = (long long)json_integer_value(json_object_get(event, "created"));
  bool duplicate = false;
  h_result r = apply_tx(&c, H_SYNC_EVENT, text, created, &duplicate);
  if (r == H_OK && !duplicate && strcmp(c.outcome, "refetch") == 0) {
    h_payment_notices_push(app, &c.notices, request_id);
    c.notices.n = 0;
    r = refetch(&c);
    if (r == H_OK) {
      r = apply_tx(&c, H_SYNC_FETCH, text, created, &duplicate);
    } else {
      h_log(H_LOG_WARNING, NULL, request_id,
            "webhook %s: re-fetch failed (%s); the provider will retry", c.event_id,
            h_result_name(r));
      r = H_ERR_UNAVAILABLE;
    }
  }
  free(text);
  h_provider_payment_clear(&c.pi);
  if (r == H_OK) {
    h_dispute_notices_push(app, c.admin_notices, request_id);
  }
  json_decref(c.admin_notices);
  if (r != H_OK) {
    return h_error_set(err, r == H_ERR_INVALID ? H_ERR_UNAVAILABLE : r, NULL,
                       "The event could not be applied now; deliver it again later.", NULL);
  }
  h_payment_notices_push(app, &c.notices, request_id);
  *receipt = json_pack("{sbsbss}", "received", 1, "duplicate", duplicate, "outcome",
                       duplicate ? "duplicate" : c.outcome);
  return H_OK;
}
