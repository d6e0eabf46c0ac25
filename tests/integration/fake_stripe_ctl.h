/* fake_stripe_ctl.h - starts tests/fakes/fake_stripe.py on a free port for a test
 * program and drives its control API (/_fake/...). */
#ifndef HERALD_FAKE_STRIPE_CTL_H
#define HERALD_FAKE_STRIPE_CTL_H

#include <jansson.h>
#include <sys/types.h>

#include "harness.h"

struct fs_fake {
  pid_t pid;
  char base[64]; /* "http://127.0.0.1:PORT" */
};

/* Starts the fake (fails the test if it does not come up within 10 s) and points
 * HERALD_STRIPE_API_BASE / _SECRET_KEY / _WEBHOOK_SECRET at it; call before th_start. */
void fs_start(struct fs_fake *f);
void fs_stop(struct fs_fake *f);

/* The webhook secret fs_start configures. */
#define FS_WEBHOOK_SECRET "whsec_test_herald_payments"

/* Calls the fake; body (JSON text) may be NULL. Returns the status; *out (may be
 * NULL) receives the parsed answer (caller decrefs). */
long fs_call(const struct fs_fake *f, const char *method, const char *path, const char *body,
             json_t **out);

/* How many requests "METHOD /v1/path" the fake received (ids in paths read :id). */
long fs_calls(const struct fs_fake *f, const char *name);
/* How many objects of a kind ("payment_intent", "refund", ...) it created. */
long fs_created(const struct fs_fake *f, const char *kind);

/* Makes the next count matching requests fail: error is card_declined, rate_limit,
 * server_error, timeout (processed, answered after delay_s), hang (held in flight
 * delay_s first) or refund_pending. */
void fs_inject(const struct fs_fake *f, const char *method, const char *path, const char *error,
               int count, double delay_s);

/* Points the fake's webhooks at the server (auto: send each event as it happens). */
void fs_webhooks(const struct fs_fake *f, const struct th_server *s, int automatic);

/* The events of an object, oldest first, optionally of one type (caller decrefs). */
json_t *fs_events(const struct fs_fake *f, const char *object_id, const char *type);
/* The id of the first event of type about object_id (static buffer), or fails. */
const char *fs_event_id(const struct fs_fake *f, const char *object_id, const char *type);

/* Delivers events in the given order; options is extra JSON members ("\"times\":2")
 * or NULL. Returns the "deliveries" array (caller decrefs). */
json_t *fs_deliver(const struct fs_fake *f, const char *const *ids, size_t n,
                   const char *options);

#endif
