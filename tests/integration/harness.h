/* harness.h - integration tests: the API in-process on an ephemeral port against
 * the throw-away PostgreSQL and Redis started by scripts/test.sh, driven over real
 * HTTP with libcurl.
 *
 * The stack is found through the environment (HERALD_DATABASE_URL,
 * HERALD_REDIS_URL, HERALD_TEST_STACK_SCRIPT, HERALD_STACK_DIR). */
#ifndef HERALD_TEST_HARNESS_H
#define HERALD_TEST_HARNESS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "app/app.h"
#include "core/config.h"
#include "http/server.h"

struct th_server {
  struct h_config cfg;
  struct h_app app;
  struct h_server *server;
  char base[64]; /* "http://127.0.0.1:PORT" */
};

/* Loads the configuration from the environment (port 0, loopback, quiet logs),
 * applies migrations and starts the server. Fails the test on any error. */
void th_start(struct th_server *s);
void th_stop(struct th_server *s);

struct th_response {
  long status;
  char *body;        /* NUL-terminated, owned */
  size_t body_len;
  json_t *json;      /* parsed body or NULL, owned */
  char *headers;     /* raw response headers, owned */
};

/* Sends a request. headers: NULL-terminated "Name: value" strings or NULL.
 * body may be NULL. A JSON content type is added when body is set and no
 * Content-Type header is given. */
void th_request(const struct th_server *s, const char *method, const char *path,
                const char *const *headers, const char *body, struct th_response *out);
void th_response_free(struct th_response *r);

/* Value of a response header (case-insensitive), in a static buffer, or NULL. */
const char *th_header(const struct th_response *r, const char *name);

/* Fails (printing both documents) unless every member of expected (JSON text) is
 * present and equal in actual; objects are compared recursively as subsets. */
void th_assert_json_subset(const char *expected, const json_t *actual);

/* Asserts status and the error shape: {"error":{"type","code","message"}}. */
void th_assert_error(const struct th_response *r, long status, const char *code);

/* A direct PostgreSQL connection for asserting on rows (caller PQfinish()es). */
PGconn *th_db_connect(void);

/* Runs scripts/stack.sh with args against the test stack; returns its exit code. */
int th_stack(const char *args);

/* Polls GET path until it answers want_status or timeout_s passes; returns the
 * last status seen. */
long th_wait_status(const struct th_server *s, const char *path, long want_status,
                    int timeout_s);

/* A unique e-mail address "<prefix>-<uuid>@example.com" (caller frees). */
char *th_unique_email(const char *prefix);

/* Registers a user through the API (password TH_PASSWORD) and signs in; returns its access token
 * (caller frees) and, if not NULL, fills user_id and refresh (caller frees *refresh). */
#define TH_PASSWORD "correct-horse-battery-staple"
char *th_register(const struct th_server *s, const char *email, char user_id[37],
                  char **refresh);

/* Registers a user, makes it an admin in PostgreSQL, logs in; returns the admin's
 * access token (caller frees). */
char *th_admin_token(const struct th_server *s, char user_id[37]);

/* "Authorization: Bearer <token>" in a static buffer (one at a time). */
const char *th_bearer(const char *token);

/* A string member of a JSON object, or NULL. */
const char *th_str(const json_t *obj, const char *key);

#endif
