/* payment_fixtures.h - small helpers shared by the payment integration tests. */
#ifndef HERALD_PAYMENT_FIXTURES_H
#define HERALD_PAYMENT_FIXTURES_H

#include <jansson.h>
#include <libpq-fe.h>

#include "fake_stripe_ctl.h"
#include "harness.h"

/* Registers a new user; returns its access token (caller frees), fills user_id. */
char *pf_user(const struct th_server *s, char user_id[37]);

/* Sends method path as token (may be NULL) with body (may be NULL) and, when key is
 * not NULL, an Idempotency-Key header. */
void pf_call(const struct th_server *s, const char *token, const char *method, const char *path,
             const char *key, const char *body, struct th_response *out);

/* POST /api/v1/payments with a fresh Idempotency-Key; fails unless the status is
 * want; returns the payment id in a static buffer (the response is freed). */
const char *pf_pay(const struct th_server *s, const char *token, const char *body, long want);

/* One text value of a query with one parameter (caller frees), or NULL. */
char *pf_db_text(const char *sql, const char *param);
/* Fails unless the query's one text value equals want. */
void pf_assert_db(const char *sql, const char *param, const char *want);
/* One integer value of a query with one parameter. */
long pf_db_long(const char *sql, const char *param);

#endif
