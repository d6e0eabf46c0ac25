/* payment_fixtures.c - users, requests and row reads for the payment tests. */
#include "payment_fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "crypto/crypto.h"

char *pf_user(const struct th_server *s, char user_id[37]) {
  char *email = th_unique_email("payer");
  char *token = th_register(s, email, user_id, NULL);
  free(email);
  return token;
}

void pf_call(const struct th_server *s, const char *token, const char *method, const char *path,
             const char *key, const char *body, struct th_response *out) {
  char auth[4200], idem[300];
  const char *headers[3] = {NULL, NULL, NULL};
  int n = 0;
  if (token != NULL) {
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    headers[n++] = auth;
  }
  if (key != NULL) {
    snprintf(idem, sizeof(idem), "Idempotency-Key: %s", key);
    headers[n++] = idem;
  }
  th_request(s, method, path, headers, body, out);
}

const char *pf_pay(const struct th_server *s, const char *token, const char *body, long want) {
  static char id[37];
  char key[37];
  h_uuid_v4(key);
  struct th_response r;
  pf_call(s, token, "POST", "/api/v1/payments", key, body, &r);
  if (r.status != want) {
    fail_msg("POST /api/v1/payments %s: expected %ld, got %ld %s", body, want, r.status, r.body);
  }
  const char *got = th_str(r.json, "id");
  if (got == NULL) {
    got = th_str(json_object_get(r.json, "error"), "payment_id");
  }
  snprintf(id, sizeof(id), "%s", got != NULL ? got : "");
  th_response_free(&r);
  return id;
}

char *pf_db_text(const char *sql, const char *param) {
  PGconn *c = th_db_connect();
  const char *params[] = {param};
  PGresult *res = PQexecParams(c, sql, param != NULL ? 1 : 0, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(res) != PGRES_TUPLES_OK) {
    fail_msg("%s: %s", sql, PQerrorMessage(c));
  }
  char *out = PQntuples(res) > 0 && !PQgetisnull(res, 0, 0) ? h_strdup(PQgetvalue(res, 0, 0))
                                                            : NULL;
  PQclear(res);
  PQfinish(c);
  return out;
}

void pf_assert_db(const char *sql, const char *param, const char *want) {
  char *got = pf_db_text(sql, param);
  if (got == NULL || strcmp(got, want) != 0) {
    fail_msg("%s [%s]: expected %s, got %s", sql, param, want, got != NULL ? got : "(null)");
  }
  free(got);
}

long pf_db_long(const char *sql, const char *param) {
  char *v = pf_db_text(sql, param);
  long n = v != NULL ? strtol(v, NULL, 10) : 0;
  free(v);
  return n;
}
