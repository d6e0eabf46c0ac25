/* webhook_endpoint_service.h - webhook endpoints: a user's own (owner = the user's id)
 * and the system-wide ones an admin registers (owner NULL), which receive every user's
 * notifications of their categories. A URL is checked when registered (and enabled
 * again): https (http only with HERALD_WEBHOOK_ALLOW_HTTP), and every address its host
 * resolves to public or inside HERALD_WEBHOOK_ALLOW_NETS (common/net/netaddr.h).
 * The secret is returned by creation and rotation only. json_t ** out-parameters are
 * new references for the caller. */
#ifndef HERALD_WEBHOOK_ENDPOINT_SERVICE_H
#define HERALD_WEBHOOK_ENDPOINT_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/errors.h"
#include "core/page.h"
#include "store/idempotency.h"
#include "store/redis.h"

struct h_endpoint_input {
  const char *url;
  const char *format;        /* json, slack, discord; NULL: json */
  const char *description;   /* may be NULL */
  const json_t *categories;  /* array of category names, or NULL: every category */
};

/* True when format is one of json, slack, discord. Pure. */
bool h_endpoint_format_valid(const char *format);

/* Checks url against the configuration: H_OK, or H_ERR_INVALID with err (param "url",
 * code invalid_url, https_required, credentials_in_url, address_not_allowed or
 * unresolvable_host). */
h_result h_endpoint_check_url(const struct h_config *cfg, const char *url, struct h_error *err);

/* Registers an endpoint of owner with a new secret (in *endpoint's "secret"), its audit
 * row and idempotency record (idem may be NULL). H_ERR_INVALID (err) for a refused URL,
 * H_ERR_UNPROCESSABLE (err: too_many_endpoints) past HERALD_WEBHOOK_MAX_ENDPOINTS. */
h_result h_endpoint_create(struct h_app *app, const struct h_actor *actor, const char *owner,
                           const struct h_endpoint_input *in, const struct h_idem *idem,
                           json_t **endpoint, struct h_error *err);
h_result h_endpoint_list(struct h_app *app, const char *owner, const struct h_page *page,
                         json_t **data, bool *has_more);
h_result h_endpoint_remove(struct h_app *app, const struct h_actor *actor, const char *owner,
                           const char *id);
/* A new secret; the previous one keeps signing for HERALD_WEBHOOK_SECRET_GRACE_S. */
h_result h_endpoint_rotate(struct h_app *app, const struct h_actor *actor, const char *owner,
                           const char *id, json_t **endpoint);
/* Enables a disabled endpoint again (its URL checked again: H_ERR_INVALID with err). */
h_result h_endpoint_enable(struct h_app *app, const struct h_actor *actor, const char *owner,
                           const char *id, json_t **endpoint, struct h_error *err);

/* The API sweeper's pass: tells the owners of endpoints the workers disabled, by e-mail
 * (category account), with an audit row each, in one transaction on conn; the e-mails
 * are pushed to redis (borrowed) after COMMIT. *told (may be NULL) receives how many. */
h_result h_endpoint_notify_disabled(PGconn *conn, struct h_redis *redis, long *told);

#endif
