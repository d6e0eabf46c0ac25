/* worker.h - the runtime every worker binary (herald-email, herald-sms,
 * herald-push) is built on: the command line, the queue protocol of DESIGN.md
 * "Queues", retries, the dead-letter list, heartbeats, the reaper, the sweeper,
 * the watchdog, metrics and a draining shutdown.
 *
 * A binary describes its channel and its providers in a struct h_worker_def and
 * hands its main() to h_worker_main(). A provider only turns one job into one
 * attempt (struct h_send_result); the runtime does everything else. */
#ifndef HERALD_WORKER_H
#define HERALD_WORKER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "queue/jobs.h"
#include "queue/queue.h"

enum h_send_status {
  H_SEND_OK,        /* the provider accepted the message */
  H_SEND_RETRY,     /* try again later (5xx, 429, timeout, connection refused...) */
  H_SEND_PERMANENT, /* it will never work (bad address, 4xx): the delivery fails */
  H_SEND_SKIP,      /* nothing to send to (no phone, no active device): skipped */
  /* Set by the runtime before the provider is called (core/flood.h): */
  H_SEND_THROTTLED, /* over the user's hourly limit on the channel: throttled */
  H_SEND_DIGEST,    /* over it, but the category has a digest: waits for the next one */
  H_SEND_CAPPED,    /* over the channel's daily cap: capped */
};

struct h_send_result {
  enum h_send_status status;
  int retry_after_s;          /* the provider's Retry-After, -1 when none */
  char message_id[256];       /* the provider's id of the message, "" when none */
  char error[512];            /* what went wrong, "" when nothing */
  char reason[64];            /* machine-readable reason (skipped/failed), "" when none */
  json_t *meta;               /* details of the attempt for delivery_events.meta, owned */
  json_t *deactivate_tokens;  /* push: array of device tokens to deactivate, owned */
  /* Set by the runtime: the provider whose answer this is (static name), and every
   * provider call of this attempt for deliveries.provider_attempts (array, owned). */
  const char *provider;
  json_t *calls;
  /* Set by send_many (for an http provider, by h_send_http_jobs): how long this job's own
   * requests took, in ms (send is timed by the runtime). */
  int duration_ms;
};

/* Most provider requests a worker thread keeps in flight (--in-flight,
 * HERALD_WORKER_IN_FLIGHT). */
#define H_IN_FLIGHT_MAX 100

/* A way of sending one channel's jobs. shared is created once per process by the
 * binary's factory; thread_open/thread_close give each worker thread its own state
 * (a libcurl handle keeping its connection). All callbacks but render may block
 * up to HERALD_PROVIDER_TIMEOUT_MS. */
struct h_provider {
  const char *name; /* "smtp", "file", "twilio", "fcm": recorded on the delivery */
  /* Per-thread state (may return NULL when the provider needs none). */
  void *(*thread_open)(void *shared);
  void (*thread_close)(void *state);
  /* One attempt at job; out is zeroed with retry_after_s = -1 beforehand. Not needed
   * when send_many or http is given. */
  void (*send)(void *shared, void *state, const struct h_job *job, struct h_send_result *out);
  /* --dry-run: renders job without sending; returns a one-line summary the
   * caller frees. */
  char *(*render)(void *shared, const struct h_job *job);
  void (*destroy)(void *shared);
  /* Optional: attempts at jobs[0..n) (n >= 1) at once, their requests in flight together on
   * the thread's state (at most HERALD_WORKER_IN_FLIGHT at a time); out[i] answers jobs[i]
   * as send would, zeroed beforehand with retry_after_s = -1, and gets its duration_ms.
   * NULL: the runtime calls send for each job in turn. */
  void (*send_many)(void *shared, void *state, const struct h_job *const *jobs,
                    struct h_send_result *const *out, size_t n);
  /* Instead of thread_open, thread_close, send and send_many: a provider that sends each
   * job as one HTTP request gives how to build it and read its answer, and the runtime
   * sends them, a window at a time (struct h_http_job_ops below). */
  const struct h_http_job_ops *http;
};

/* ---- providers that send a job as one HTTP request ---- */

struct h_http_request;
struct h_http_response;
struct h_http_multi;

/* One job's request as its provider prepares it. */
struct h_http_job {
  struct h_http_request *rq;  /* to fill (zeroed; its headers point at headers below) */
  const char *headers[4];     /* room for rq->headers, NULL-terminated */
  char *owned[4];             /* what rq points at that prepare allocated: freed after */
};

struct h_http_job_ops {
  /* Fills x for job; false, with out filled, when there is nothing to send (no phone,
   * an invalid number...). out may be given to rq->header_ctx: it outlives the answer. */
  bool (*prepare)(void *shared, const struct h_job *job, struct h_http_job *x,
                  struct h_send_result *out);
  /* Reads the answer that arrived (any status) into out. */
  void (*answer)(void *shared, const struct h_job *job, const struct h_http_response *resp,
                 struct h_send_result *out);
};

/* Sends jobs[0..n) of such a provider together on multi (its thread's state, opened by
 * the runtime): each job prepared, every request in flight at once (at most
 * HERALD_WORKER_IN_FLIGHT at a time), each answer read into out[k] with its duration_ms;
 * a request that got no answer retries its job with the transport's error. */
void h_send_http_jobs(void *shared, struct h_http_multi *multi, const struct h_http_job_ops *ops,
                      const struct h_job *const *jobs, struct h_send_result *const *out,
                      size_t n);

/* The providers of a channel in the order they are tried (HERALD_EMAIL_PROVIDERS,
 * HERALD_SMS_PROVIDERS). A retryable failure (H_SEND_RETRY) of one moves the job to
 * the next; with breakers on, each provider has a circuit breaker in Redis shared by
 * every worker of the channel (workers/runtime/breaker.h). */
#define H_MAX_PROVIDERS 4
struct h_provider_set {
  int n;
  const struct h_provider *providers[H_MAX_PROVIDERS];
  void *shared[H_MAX_PROVIDERS]; /* each provider's, owned (its destroy) */
  bool breakers;                 /* an ordered list was configured: breakers on */
};

/* Splits a comma-separated provider list into names[] (at most H_MAX_PROVIDERS, each
 * under 16 bytes); returns how many. The list was validated with the configuration. */
int h_provider_list_split(const char *list, char names[H_MAX_PROVIDERS][16]);

/* The providers a channel offers, for h_provider_set_build. */
struct h_provider_catalog {
  const char *list_var;                /* "HERALD_EMAIL_PROVIDERS", for messages */
  const struct h_provider *const *all; /* NULL-terminated */
  /* A new shared state for p into *shared (p->destroy frees it, also after a failure);
   * H_ERR_INVALID with *error naming the variable to fix. */
  h_result (*setup)(const struct h_config *cfg, const struct h_provider *p, void **shared,
                    char **error);
};

/* Fills set with the providers of ordered (a validated list; breakers on) or, when it is
 * empty, of single; each set up by cat->setup. H_ERR_INVALID with *error (caller frees);
 * what set holds then is destroyed by the caller. */
h_result h_provider_set_build(const struct h_config *cfg, const char *ordered, const char *single,
                              const struct h_provider_catalog *cat, struct h_provider_set *set,
                              char **error);

struct h_worker_def {
  const char *program;      /* "herald-email" */
  enum h_queue queue;       /* H_QUEUE_EMAIL; the channel has the queue's name */
  bool needs_devices;       /* load the user's active devices before sending (push) */
  /* webhook: load the delivery's endpoint before sending, count every attempt against
   * it (HERALD_WEBHOOK_DISABLE_AFTER), and take one job at a time */
  bool needs_endpoint;
  /* Builds the providers configured in cfg into set (zeroed beforehand). On failure
   * returns H_ERR_INVALID with *error naming the variable (caller frees); the providers
   * already in set are destroyed by the caller. */
  h_result (*create)(const struct h_config *cfg, struct h_provider_set *set, char **error);
};

/* Runs the whole program: parses argv, loads the configuration, runs the worker or
 * a subcommand. Returns the exit status (0, 1 on failure, 2 on bad usage, 78 on a
 * bad configuration). */
int h_worker_main(const struct h_worker_def *def, int argc, char **argv);

/* Helpers for providers. */

/* Formats into out->error (truncated to fit). */
void h_send_errorf(struct h_send_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The outcome of an HTTP provider's answer: 2xx sent; 408, 429, 5xx, 401 and 403 (the
 * credentials, not the message) retried, with retry_after_s (-1: none); any other 4xx
 * permanent (reason provider_rejected). detail (may be NULL) goes into out->error. */
void h_send_http_answer(struct h_send_result *out, long status, int retry_after_s,
                        const char *detail);

/* Writes len bytes atomically as dir/name (a temporary file renamed into place),
 * creating dir when missing. H_ERR_UNAVAILABLE with errno's text in *error
 * (caller frees) on failure. */
h_result h_outbox_write_file(const char *dir, const char *name, const char *data, size_t len,
                             char **error);

/* The open and close of an HTTP provider's per-thread state: a client (net/http_client.h)
 * bounded by the provider timeout (and at most 5 s to connect). */
void *h_provider_http_open(const struct h_config *cfg);
void h_provider_http_close(void *state);
/* The same bounds for HERALD_WORKER_IN_FLIGHT requests at once (a provider's send_many,
 * and the state the runtime opens for an http provider); the caller frees it with
 * h_http_multi_destroy. */
struct h_http_multi *h_provider_multi_open(const struct h_config *cfg);

/* The send of a `file` provider: writes data (a string) as dir/name and fills out with
 * H_SEND_OK, or H_SEND_RETRY and the error. Returns whether the file was written. */
bool h_outbox_send_file(const char *dir, const char *name, const char *data,
                        struct h_send_result *out);

/* h_outbox_send_file of doc (borrowed) as indented JSON in dir/<job id>.json; message
 * id "file:<job id>" when written. */
bool h_outbox_send_json(const char *dir, const struct h_job *job, const json_t *doc,
                        struct h_send_result *out);

#endif
