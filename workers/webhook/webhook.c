/* webhook.c - herald-webhook's provider (see webhook.h). Every attempt parses the
 * endpoint's URL, resolves its host and checks every address (common/net/netaddr.h),
 * then connects only to the checked address (CURLOPT_RESOLVE) and checks again the
 * address of every connection libcurl opens; redirects are not followed and the
 * response body is bounded (HERALD_WEBHOOK_MAX_RESPONSE_BYTES). */
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "crypto/webhook_sig.h"
#include "net/http_client.h"
#include "net/netaddr.h"
#include "payload.h"

struct webhook_shared {
  const struct h_config *cfg; /* borrowed */
  struct h_net_allow allow;   /* owned */
  char user_agent[64];
};

static bool address_ok(const struct sockaddr *sa, void *ctx) {
  const struct webhook_shared *sh = ctx;
  return h_net_refusal(sa, &sh->allow) == NULL;
}

/* Checks the endpoint's URL and address; fills resolve ("host:port:addr", "" for an
 * address literal). False with out filled when the attempt must not be made. */
static bool check_target(const struct webhook_shared *sh, const char *url, char *resolve,
                         size_t resolve_len, struct h_send_result *out) {
  struct h_net_target t;
  const char *reason = NULL;
  char addr[64];
  resolve[0] = '\0';
  if (h_net_parse_url(url, sh->cfg->webhook_allow_http, &t, &reason) != H_OK) {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "%s", reason);
    h_send_errorf(out, "the endpoint URL is refused (%s)", reason);
    return false;
  }
  h_result r = h_net_resolve_checked(&t, &sh->allow, addr, &reason);
  if (r == H_ERR_UNAVAILABLE) {
    out->status = H_SEND_RETRY;
    h_send_errorf(out, "the endpoint host does not resolve");
    return false;
  }
  if (r != H_OK) {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "address_refused");
    h_send_errorf(out, "the endpoint resolves to a refused address (%s)", reason);
    return false;
  }
  if (!t.literal) {
    snprintf(resolve, resolve_len, strchr(addr, ':') != NULL ? "%s:%d:[%s]" : "%s:%d:%s", t.host,
             t.port, addr);
  }
  return true;
}

/* True for the answers that will not change on a retry: a redirect (never followed) and
 * 400, 404, 405, 410, 413, 414, 415, 422. */
static bool permanent_status(long s) {
  return (s >= 300 && s < 400) || s == 400 || s == 404 || s == 405 || s == 410 || s == 413 ||
         s == 414 || s == 415 || s == 422;
}

/* The outcome of an answer: 2xx sent; a permanent status fails the delivery; anything
 * else (401/403 while the receiver's secret is fixed, 408, 409, 429, 5xx...) is retried. */
static void read_status(const struct h_http_response *resp, struct h_send_result *out) {
  long s = resp->status;
  out->retry_after_s = resp->retry_after_s;
  if (s >= 200 && s < 300) {
    out->status = H_SEND_OK;
  } else if (permanent_status(s)) {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "endpoint_rejected");
    h_send_errorf(out, "HTTP %ld from the endpoint", s);
  } else {
    out->status = H_SEND_RETRY;
    h_send_errorf(out, "HTTP %ld from the endpoint", s);
  }
}

/* The webhook-signature header for body: one v1 signature per valid secret. */
static bool signature_header(const struct h_endpoint *e, const char *id, long long ts,
                             const char *body, char *out, size_t outlen) {
  char now_sig[64], old_sig[64];
  if (h_whsec_sign(e->secret, id, ts, body, strlen(body), now_sig, sizeof(now_sig)) != H_OK) {
    return false;
  }
  if (e->previous_secret != NULL &&
      h_whsec_sign(e->previous_secret, id, ts, body, strlen(body), old_sig, sizeof(old_sig)) ==
          H_OK) {
    snprintf(out, outlen, "webhook-signature: %s %s", now_sig, old_sig);
  } else {
    snprintf(out, outlen, "webhook-signature: %s", now_sig);
  }
  return true;
}

/* POSTs body to e with the Standard Webhooks headers; fills out. */
static void post(const struct webhook_shared *sh, void *http, const struct h_job *job,
                 const char *resolve, const char *body, struct h_send_result *out) {
  const struct h_endpoint *e = job->endpoint;
  long long ts = (long long)time(NULL);
  char id_h[80], ts_h[48], sig_h[160];
  snprintf(id_h, sizeof(id_h), "webhook-id: %s", job->id);
  snprintf(ts_h, sizeof(ts_h), "webhook-timestamp: %lld", ts);
  if (!signature_header(e, job->id, ts, body, sig_h, sizeof(sig_h))) {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "invalid_secret");
    h_send_errorf(out, "the endpoint's secret is not a whsec_ secret");
    return;
  }
  const char *headers[] = {"Content-Type: application/json", id_h, ts_h, sig_h, NULL};
  struct h_http_request rq = {
    .method = "POST", .url = e->url, .headers = headers, .body = body,
    .body_len = strlen(body), .user_agent = sh->user_agent,
    .resolve = resolve[0] != '\0' ? resolve : NULL, .allow_address = address_ok,
    .address_ctx = (void *)sh, .max_body = (size_t)sh->cfg->webhook_max_response_bytes};
  struct h_http_response resp;
  if (h_http_send(http, &rq, &resp) != H_OK) {
    out->status = H_SEND_RETRY;
    h_send_errorf(out, "%s", resp.error);
  } else {
    read_status(&resp, out);
  }
  json_object_set_new(out->meta, "http_status", json_integer(resp.status));
  h_http_response_free(&resp);
}

static void webhook_send(void *shared, void *state, const struct h_job *job,
                         struct h_send_result *out) {
  struct webhook_shared *sh = shared;
  const struct h_endpoint *e = job->endpoint;
  if (e == NULL || !e->enabled) {
    out->status = H_SEND_SKIP;
    snprintf(out->reason, sizeof(out->reason), e == NULL ? "endpoint_deleted"
                                                         : "endpoint_disabled");
    return;
  }
  out->meta = json_pack("{ssss}", "endpoint_id", e->id, "format", e->format);
  char resolve[384];
  if (!check_target(sh, e->url, resolve, sizeof(resolve), out)) {
    return;
  }
  char stamp[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  json_t *doc = h_webhook_payload(job, e->format, stamp);
  char *body = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  post(sh, state, job, resolve, body, out);
  free(body);
}

static char *render(void *shared, const struct h_job *job) {
  (void)shared;
  if (job->endpoint == NULL) {
    return h_strdup("no endpoint (deleted)");
  }
  json_t *doc = h_webhook_payload(job, job->endpoint->format, "1970-01-01T00:00:00Z");
  char *body = json_dumps(doc, JSON_COMPACT);
  json_decref(doc);
  char *summary = h_sprintf("%s POST, %zu bytes, endpoint %s%s", job->endpoint->format,
                            strlen(body), job->endpoint->id,
                            job->endpoint->enabled ? "" : " (disabled: skipped)");
  free(body);
  return summary;
}

static void *webhook_open(void *shared) {
  return h_provider_http_open(((struct webhook_shared *)shared)->cfg);
}

static void webhook_destroy(void *shared) {
  struct webhook_shared *sh = shared;
  if (sh != NULL) {
    h_net_allow_free(&sh->allow);
    free(sh);
  }
}

static const struct h_provider provider = {
  .name = "webhook", .thread_open = webhook_open, .thread_close = h_provider_http_close,
  .send = webhook_send, .render = render, .destroy = webhook_destroy,
};

h_result h_webhook_create(const struct h_config *cfg, struct h_provider_set *set,
                          char **error) {
  *error = NULL;
  struct webhook_shared *sh = h_calloc(1, sizeof(*sh));
  char *why = NULL;
  if (h_net_allow_parse(cfg->webhook_allow_nets, &sh->allow, &why) != H_OK) {
    *error = h_sprintf("HERALD_WEBHOOK_ALLOW_NETS: %s", why);
    free(why);
    free(sh);
    return H_ERR_INVALID;
  }
  sh->cfg = cfg;
  snprintf(sh->user_agent, sizeof(sh->user_agent), "Herald-Webhooks/1");
  set->providers[0] = &provider;
  set->shared[0] = sh;
  set->n = 1;
  return H_OK;
}
