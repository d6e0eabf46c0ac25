/* idempotency.c - claiming the Idempotency-Key of a request and answering for a key that
 * is taken (replay, 400 idempotency_error, 409 in flight). */
#include "http/idempotency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ulfius.h>

unsigned int h_http_outcome_status(enum h_outcome outcome) {
  switch (outcome) {
  case H_OUTCOME_CREATED:
    return 201;
  case H_OUTCOME_ACCEPTED:
    return 202;
  default:
    return 200;
  }
}

/* Sends the stored response again (body borrowed). */
static void replay(struct h_req *rq, unsigned int status, const char *body) {
  h_reply_json_text(rq, status, body);
  h_reply_header(rq, "Idempotent-Replayed", "true");
}

/* A 400 or 409 of type idempotency_error. */
static void refuse(struct h_req *rq, h_result r, const char *code, const char *message) {
  json_t *body = h_error_body(r, code, message, "Idempotency-Key", NULL);
  json_object_set_new(json_object_get(body, "error"), "type", json_string("idempotency_error"));
  if (r == H_ERR_CONFLICT) {
    h_reply_header(rq, "Retry-After", "1");
  }
  h_reply_json(rq, h_result_http_status(r), body);
}

/* Fills idem from the request's Idempotency-Key: false when a reply was sent (an invalid
 * key), else true with *keyed telling whether a key was sent (caller, key and hash set). */
static bool idem_prepare(struct h_req *rq, struct h_idem *idem, bool *keyed) {
  memset(idem, 0, sizeof(*idem));
  *keyed = false;
  for (int i = 0; i < H_OUTCOME_COUNT; i++) {
    idem->status[i] = h_http_outcome_status((enum h_outcome)i);
  }
  idem->status_of = h_result_http_status;
  idem->error_body = h_http_error_body;
  const char *key = h_req_header(rq, "Idempotency-Key");
  if (key == NULL) {
    return true;
  }
  if (!h_idem_key_valid(key)) {
    h_reply_error(rq, H_ERR_INVALID, "invalid_idempotency_key",
                  "Idempotency-Key must be 1 to 255 visible ASCII characters.",
                  "Idempotency-Key");
    return false;
  }
  snprintf(idem->caller, sizeof(idem->caller), "%s:%s",
           strcmp(rq->role, "service") == 0 ? "api_key" : "user", rq->user_id);
  snprintf(idem->key, sizeof(idem->key), "%s", key);
  h_idem_request_hash(rq->request->http_verb, rq->request->url_path, rq->body, idem->hash);
  *keyed = true;
  return true;
}

bool h_http_idem_begin(struct h_req *rq, struct h_idem *idem) {
  bool keyed = false;
  if (!idem_prepare(rq, idem, &keyed)) {
    return false;
  }
  if (!keyed) {
    return true;
  }
  const struct h_config *cfg = rq->app->cfg;
  enum h_idem_state state;
  unsigned int status = 0;
  char *stored = NULL;
  h_result r = h_idem_claim(rq->app->db, idem, cfg->idempotency_lock_s, cfg->idempotency_ttl_s,
                            &state, &status, &stored);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "The Idempotency-Key could not be checked; try again later.",
                  NULL);
    return false;
  }
  switch (state) {
  case H_IDEM_CLAIMED:
    idem->active = true;
    break;
  case H_IDEM_REPLAY:
    replay(rq, status, stored);
    break;
  case H_IDEM_MISMATCH:
    refuse(rq, H_ERR_INVALID, "idempotency_key_reused",
           "This Idempotency-Key was used with a different request; use a new key for a new "
           "request.");
    break;
  case H_IDEM_IN_FLIGHT:
    refuse(rq, H_ERR_CONFLICT, "idempotency_in_flight",
           "A request with this Idempotency-Key is still being processed.");
    break;
  }
  free(stored);
  return idem->active;
}

bool h_http_idem_begin_valid(struct h_req *rq, struct h_field_errors *fe, struct h_idem *idem) {
  return h_http_idem_defer_valid(rq, fe, idem, false);
}

bool h_http_idem_defer_valid(struct h_req *rq, struct h_field_errors *fe, struct h_idem *idem,
                             bool defer) {
  if (h_field_errors_count(fe) > 0) {
    h_reply_field_errors(rq, fe);
    return false;
  }
  if (!defer) {
    return h_http_idem_begin(rq, idem);
  }
  bool keyed = false;
  if (!idem_prepare(rq, idem, &keyed)) {
    return false;
  }
  idem->active = keyed;
  idem->deferred = keyed;
  return true;
}
