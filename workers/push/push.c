/* push.c - herald-push's providers: `fcm` (Firebase Cloud Messaging HTTP v1, one
 * request per active device of the user, the requests of a window of jobs in flight
 * together) and `file` (JSON files in HERALD_PUSH_OUTBOX_DIR).
 *
 * The message itself (data, silent, priority, ttl, collapse key, badge, Android and
 * APNs overrides) is built by fcm_message.c. A delivery is sent when at least one device
 * accepted it (no retry then, so no device gets it twice); retried when none did and
 * some failure was transient; failed when every device refused it. Tokens FCM calls UNREGISTERED or invalid
 * are deactivated in the same transaction as the outcome. */
#include "push.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "fcm_auth.h"
#include "fcm_message.h"
#include "net/http_client.h"

struct push_shared {
  const struct h_config *cfg; /* borrowed */
  struct h_fcm_auth *auth;    /* owned; fcm only */
  char *send_url;             /* owned; fcm only */
};

/* A worker thread's connections to FCM. */
struct push_state {
  struct h_http *http;        /* the access token's requests */
  struct h_http_multi *multi; /* the sends, HERALD_WORKER_IN_FLIGHT at once */
};

/* ---- file provider ---- */

static void file_send(void *shared, void *state, const struct h_job *job,
                      struct h_send_result *out) {
  (void)state;
  struct push_shared *sh = shared;
  if (job->ndevices == 0) {
    out->status = H_SEND_SKIP;
    snprintf(out->reason, sizeof(out->reason), "no_device");
    return;
  }
  json_t *devices = json_array();
  for (size_t i = 0; i < job->ndevices; i++) {
    json_array_append_new(devices, json_pack("{ssss}", "token", job->devices[i].token,
                                             "platform", job->devices[i].platform));
  }
  json_t *full = h_fcm_message(job, "(each device)", time(NULL));
  json_t *message = json_incref(json_object_get(full, "message"));
  json_decref(full);
  json_object_del(message, "token");
  json_t *doc = json_pack("{sssoso}", "delivery_id", job->id, "devices", devices, "message",
                          message);
  if (h_outbox_send_json(sh->cfg->push_outbox_dir, job, doc, out)) {
    out->meta = json_pack("{si}", "devices", (int)job->ndevices);
  }
  json_decref(doc);
}

static char *render(void *shared, const struct h_job *job) {
  (void)shared;
  return h_sprintf("%zu device(s), title \"%.60s\"", job->ndevices, job->title ? job->title : "");
}

/* ---- fcm provider ---- */

enum device_result { DEV_SENT, DEV_INVALID, DEV_TRANSIENT, DEV_REFUSED };

struct tally {
  int sent, invalid, transient, refused;
  int retry_after_s;
  char first_name[256];
  char last_error[300];
};

/* The errorCode of an FCM error body ("UNREGISTERED"), or its status, or "". */
static void fcm_error_code(const json_t *doc, char *out, size_t outlen) {
  const json_t *error = json_object_get(doc, "error");
  const json_t *details = json_object_get(error, "details");
  const char *status = json_string_value(json_object_get(error, "status"));
  const char *code = NULL;
  for (size_t i = 0; i < json_array_size(details) && code == NULL; i++) {
    code = json_string_value(json_object_get(json_array_get(details, i), "errorCode"));
  }
  snprintf(out, outlen, "%s", code != NULL ? code : status != NULL ? status : "");
}

static enum device_result classify(const struct h_http_response *resp, struct tally *t) {
  json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
  char code[64];
  fcm_error_code(doc, code, sizeof(code));
  enum device_result r;
  if (resp->status == 200) {
    const char *name = json_string_value(json_object_get(doc, "name"));
    if (t->first_name[0] == '\0' && name != NULL) {
      snprintf(t->first_name, sizeof(t->first_name), "%s", name);
    }
    r = DEV_SENT;
  } else if (strcmp(code, "UNREGISTERED") == 0 || strcmp(code, "SENDER_ID_MISMATCH") == 0 ||
             (resp->status == 400 && strcmp(code, "INVALID_ARGUMENT") == 0)) {
    r = DEV_INVALID;
  } else if (resp->status == 429 || resp->status >= 500 || resp->status == 401) {
    r = DEV_TRANSIENT;
    t->retry_after_s = resp->retry_after_s > t->retry_after_s ? resp->retry_after_s
                                                              : t->retry_after_s;
  } else {
    r = DEV_REFUSED;
  }
  if (r != DEV_SENT) {
    snprintf(t->last_error, sizeof(t->last_error), "HTTP %ld %s", resp->status, code);
  }
  json_decref(doc);
  return r;
}

/* The delivery's outcome from the per-device tally. */
static void conclude(const struct tally *t, size_t ndevices, struct h_send_result *out) {
  out->meta = json_pack("{sisisisisi}", "devices", (int)ndevices, "sent", t->sent, "invalid",
                        t->invalid, "transient", t->transient, "refused", t->refused);
  if (t->sent > 0) {
    out->status = H_SEND_OK;
    snprintf(out->message_id, sizeof(out->message_id), "%s", t->first_name);
    if (t->sent < (int)ndevices) {
      h_send_errorf(out, "%d of %zu device(s) accepted; last error: %s", t->sent, ndevices,
                    t->last_error);
    }
  } else if (t->transient > 0) {
    out->status = H_SEND_RETRY;
    out->retry_after_s = t->retry_after_s;
    h_send_errorf(out, "fcm: %s", t->last_error);
  } else {
    out->status = H_SEND_PERMANENT;
    snprintf(out->reason, sizeof(out->reason), "%s",
             t->invalid == (int)ndevices ? "invalid_tokens" : "provider_rejected");
    h_send_errorf(out, "fcm: every device refused it; last error: %s", t->last_error);
  }
}

/* One device's request in a window of jobs. */
struct device_send {
  size_t job;          /* its job's index in the window */
  const char *token;   /* the device's token, borrowed from the job */
  char *body;          /* the message for it, owned */
  bool pending;        /* no answer counted yet */
};

/* Counts device d's answer r into its job's tally (and the tokens to deactivate). */
static void count_device(const struct device_send *d, enum device_result r, struct tally *t,
                         struct h_send_result *out) {
  t->sent += r == DEV_SENT;
  t->transient += r == DEV_TRANSIENT;
  t->refused += r == DEV_REFUSED;
  if (r == DEV_INVALID) {
    t->invalid++;
    if (out->deactivate_tokens == NULL) {
      out->deactivate_tokens = json_array();
    }
    json_array_append_new(out->deactivate_tokens, json_string(d->token));
  }
}

/* One round: every pending device's request at once with the current access token. A 401
 * leaves the device pending when retry_401 (the caller fetches a fresh token and sends it
 * again), else it counts as transient. Each job's slowest request goes to *job_ms.
 * Returns whether a device got a 401 and is still pending. */
static bool send_round(struct push_shared *sh, struct push_state *st, struct device_send *ds,
                       size_t nds, const char *token, bool retry_401, struct tally *tallies,
                       struct h_send_result *const *out, double *job_ms, size_t njobs) {
  char auth[2100];
  snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
  const char *headers[] = {"Content-Type: application/json; charset=UTF-8", auth, NULL};
  struct h_http_request *rq = h_calloc(nds, sizeof(*rq));
  size_t *which = h_calloc(nds, sizeof(*which));
  size_t m = 0;
  for (size_t i = 0; i < nds; i++) {
    if (ds[i].pending) {
      rq[m] = (struct h_http_request){.method = "POST", .url = sh->send_url, .headers = headers,
                                      .body = ds[i].body, .body_len = strlen(ds[i].body)};
      which[m++] = i;
    }
  }
  struct h_http_response *resp = h_calloc(m, sizeof(*resp));
  h_result *results = h_calloc(m, sizeof(*results));
  h_http_send_all(st->multi, rq, m, resp, results);
  double *round_ms = h_calloc(njobs, sizeof(*round_ms));
  bool again = false;
  for (size_t k = 0; k < m; k++) {
    struct device_send *d = &ds[which[k]];
    struct tally *t = &tallies[d->job];
    round_ms[d->job] = resp[k].elapsed_ms > round_ms[d->job] ? resp[k].elapsed_ms
                                                               : round_ms[d->job];
    if (results[k] != H_OK) {
      snprintf(t->last_error, sizeof(t->last_error), "%s", resp[k].error);
      count_device(d, DEV_TRANSIENT, t, out[d->job]);
      d->pending = false;
    } else if (resp[k].status == 401 && retry_401) {
      again = true; /* our token was refused: sent again with a fresh one */
    } else {
      count_device(d, classify(&resp[k], t), t, out[d->job]);
      d->pending = false;
    }
    h_http_response_free(&resp[k]);
  }
  for (size_t j = 0; j < njobs; j++) {
    job_ms[j] += round_ms[j];
  }
  free(round_ms);
  free(results);
  free(resp);
  free(which);
  free(rq);
  return again;
}

/* Every device of jobs[0..n) with its own request, all of them in flight together (at most
 * HERALD_WORKER_IN_FLIGHT at a time); one access token for the window, fetched again once
 * if FCM refuses it. */
static void fcm_send_many(void *shared, void *state, const struct h_job *const *jobs,
                          struct h_send_result *const *out, size_t n) {
  struct push_shared *sh = shared;
  struct push_state *st = state;
  size_t nds = 0;
  for (size_t j = 0; j < n; j++) {
    nds += jobs[j]->ndevices;
  }
  struct device_send *ds = h_calloc(nds > 0 ? nds : 1, sizeof(*ds));
  struct tally *tallies = h_calloc(n, sizeof(*tallies));
  double *job_ms = h_calloc(n, sizeof(*job_ms));
  time_t now = time(NULL);
  size_t d = 0;
  for (size_t j = 0; j < n; j++) {
    tallies[j].retry_after_s = -1;
    for (size_t i = 0; i < jobs[j]->ndevices; i++, d++) {
      json_t *msg = h_fcm_message(jobs[j], jobs[j]->devices[i].token, now);
      ds[d] = (struct device_send){j, jobs[j]->devices[i].token, json_dumps(msg, JSON_COMPACT),
                                   true};
      json_decref(msg);
    }
  }
  bool pending = nds > 0;
  for (int round = 0; round < 2 && pending; round++) {
    char token[2048], error[300];
    int retry_after = -1;
    if (h_fcm_auth_token(sh->auth, st->http, token, sizeof(token), error, sizeof(error),
                         &retry_after) != H_OK) {
      for (size_t i = 0; i < nds; i++) {
        struct tally *t = &tallies[ds[i].job];
        if (ds[i].pending) {
          snprintf(t->last_error, sizeof(t->last_error), "%s", error);
          t->retry_after_s = retry_after;
          count_device(&ds[i], DEV_TRANSIENT, t, out[ds[i].job]);
          ds[i].pending = false;
        }
      }
      break;
    }
    pending = send_round(sh, st, ds, nds, token, round == 0, tallies, out, job_ms, n);
    if (pending) {
      h_fcm_auth_invalidate(sh->auth, token);
    }
  }
  for (size_t j = 0; j < n; j++) {
    if (jobs[j]->ndevices == 0) {
      out[j]->status = H_SEND_SKIP;
      snprintf(out[j]->reason, sizeof(out[j]->reason), "no_device");
    } else {
      conclude(&tallies[j], jobs[j]->ndevices, out[j]);
    }
    out[j]->duration_ms = (int)(job_ms[j] + 0.5);
  }
  for (size_t i = 0; i < nds; i++) {
    free(ds[i].body);
  }
  free(job_ms);
  free(tallies);
  free(ds);
}

static void *fcm_open(void *shared) {
  const struct h_config *cfg = ((struct push_shared *)shared)->cfg;
  struct push_state *st = h_calloc(1, sizeof(*st));
  st->http = h_provider_http_open(cfg);
  st->multi = h_provider_multi_open(cfg);
  return st;
}

static void fcm_close(void *state) {
  struct push_state *st = state;
  if (st != NULL) {
    h_provider_http_close(st->http);
    h_http_multi_destroy(st->multi);
    free(st);
  }
}

static void push_destroy(void *shared) {
  struct push_shared *sh = shared;
  if (sh != NULL) {
    h_fcm_auth_free(sh->auth);
    free(sh->send_url);
    free(sh);
  }
}

static const struct h_provider file_provider = {
  .name = "file", .send = file_send, .render = render, .destroy = push_destroy,
};
static const struct h_provider fcm_provider = {
  .name = "fcm", .thread_open = fcm_open, .thread_close = fcm_close,
  .send_many = fcm_send_many, .render = render, .destroy = push_destroy,
};

static h_result fcm_setup(const struct h_config *cfg, struct push_shared *sh, char **error) {
  if (cfg->fcm_credentials_file[0] == '\0') {
    *error = h_sprintf("HERALD_FCM_CREDENTIALS_FILE: required by HERALD_PUSH_PROVIDER=fcm");
    return H_ERR_INVALID;
  }
  if (h_fcm_auth_load(cfg->fcm_credentials_file, &sh->auth, error) != H_OK) {
    return H_ERR_INVALID;
  }
  const char *project = cfg->fcm_project_id[0] != '\0' ? cfg->fcm_project_id
                                                       : h_fcm_auth_project(sh->auth);
  if (project[0] == '\0') {
    *error = h_sprintf("HERALD_FCM_PROJECT_ID: the credentials name no project_id; set it");
    return H_ERR_INVALID;
  }
  size_t n = strlen(cfg->fcm_base_url);
  while (n > 0 && cfg->fcm_base_url[n - 1] == '/') {
    n--;
  }
  char *escaped = h_http_escape(project);
  sh->send_url = h_sprintf("%.*s/v1/projects/%s/messages:send", (int)n, cfg->fcm_base_url,
                           escaped);
  free(escaped);
  return H_OK;
}

h_result h_push_create(const struct h_config *cfg, struct h_provider_set *set, char **error) {
  struct push_shared *sh = h_calloc(1, sizeof(*sh));
  sh->cfg = cfg;
  *error = NULL;
  bool fcm = strcmp(cfg->push_provider, "fcm") == 0;
  if (fcm && fcm_setup(cfg, sh, error) != H_OK) {
    push_destroy(sh);
    return H_ERR_INVALID;
  }
  set->providers[0] = fcm ? &fcm_provider : &file_provider;
  set->shared[0] = sh;
  set->n = 1;
  return H_OK;
}
