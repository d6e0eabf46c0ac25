/* fcm_auth.c - service-account JWT (RS256) -> OAuth2 access token, cached. */
#include "fcm_auth.h"

#include <jansson.h>
#include <jwt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"

#define FCM_SCOPE "https://www.googleapis.com/auth/firebase.messaging"

struct h_fcm_auth {
  char *client_email;
  char *private_key;   /* PEM */
  char *key_id;        /* may be "" */
  char *token_uri;
  char *project_id;
  pthread_mutex_t lock; /* guards the cache below */
  char token[2048];
  time_t expires_at;
  unsigned long fetches;
};

void h_fcm_auth_free(struct h_fcm_auth *a) {
  if (a == NULL) {
    return;
  }
  free(a->client_email);
  free(a->private_key);
  free(a->key_id);
  free(a->token_uri);
  free(a->project_id);
  pthread_mutex_destroy(&a->lock);
  free(a);
}

/* A required string member of the credentials, copied. */
static char *member(const json_t *doc, const char *name, bool required, const char *path,
                    char **error) {
  const char *v = json_string_value(json_object_get(doc, name));
  if (v == NULL && required && *error == NULL) {
    *error = h_sprintf("HERALD_FCM_CREDENTIALS_FILE: %s has no \"%s\"", path, name);
  }
  return h_strdup(v != NULL ? v : "");
}

h_result h_fcm_auth_load(const char *path, struct h_fcm_auth **out, char **error) {
  *out = NULL;
  *error = NULL;
  json_error_t jerr;
  json_t *doc = json_load_file(path, 0, &jerr);
  if (!json_is_object(doc)) {
    *error = h_sprintf("HERALD_FCM_CREDENTIALS_FILE: cannot read '%s': %s", path, jerr.text);
    json_decref(doc);
    return H_ERR_INVALID;
  }
  struct h_fcm_auth *a = h_calloc(1, sizeof(*a));
  pthread_mutex_init(&a->lock, NULL);
  a->client_email = member(doc, "client_email", true, path, error);
  a->private_key = member(doc, "private_key", true, path, error);
  a->token_uri = member(doc, "token_uri", true, path, error);
  a->key_id = member(doc, "private_key_id", false, path, error);
  a->project_id = member(doc, "project_id", false, path, error);
  json_decref(doc);
  char *probe = *error == NULL ? h_fcm_auth_assertion(a, time(NULL)) : NULL;
  if (*error == NULL && probe == NULL) {
    *error = h_sprintf("HERALD_FCM_CREDENTIALS_FILE: the private_key of '%s' cannot sign RS256",
                       path);
  }
  free(probe);
  if (*error != NULL) {
    h_fcm_auth_free(a);
    return H_ERR_INVALID;
  }
  *out = a;
  return H_OK;
}

const char *h_fcm_auth_project(const struct h_fcm_auth *a) { return a->project_id; }

unsigned long h_fcm_auth_fetches(const struct h_fcm_auth *a) { return a->fetches; }

char *h_fcm_auth_assertion(const struct h_fcm_auth *a, time_t now) {
  jwt_t *jwt = NULL;
  if (jwt_new(&jwt) != 0) {
    return NULL;
  }
  int rc = jwt_add_grant(jwt, "iss", a->client_email);
  rc |= jwt_add_grant(jwt, "scope", FCM_SCOPE);
  rc |= jwt_add_grant(jwt, "aud", a->token_uri);
  rc |= jwt_add_grant_int(jwt, "iat", (long)now);
  rc |= jwt_add_grant_int(jwt, "exp", (long)now + 3600);
  if (a->key_id[0] != '\0') {
    rc |= jwt_add_header(jwt, "kid", a->key_id);
  }
  rc |= jwt_set_alg(jwt, JWT_ALG_RS256, (const unsigned char *)a->private_key,
                    (int)strlen(a->private_key));
  char *encoded = rc == 0 ? jwt_encode_str(jwt) : NULL;
  char *copy = encoded != NULL ? h_strdup(encoded) : NULL;
  free(encoded); /* libjwt 1.10: the caller frees with free() */
  jwt_free(jwt);
  return copy;
}

/* Reads a token reply into the cache; false with err filled when unusable. */
static bool take_token(struct h_fcm_auth *a, const struct h_http_response *resp, char *err,
                       size_t errlen) {
  json_t *doc = json_loadb(resp->body, resp->body_len, 0, NULL);
  const char *token = json_string_value(json_object_get(doc, "access_token"));
  json_int_t ttl = json_integer_value(json_object_get(doc, "expires_in"));
  bool ok = resp->status == 200 && token != NULL && strlen(token) < sizeof(a->token);
  if (ok) {
    snprintf(a->token, sizeof(a->token), "%s", token);
    ttl = ttl > 0 ? ttl : 3600;
    a->expires_at = time(NULL) + (ttl > 120 ? ttl - 60 : ttl / 2);
    a->fetches++;
  } else {
    const char *what = json_string_value(json_object_get(doc, "error_description"));
    snprintf(err, errlen, "token endpoint: HTTP %ld: %s", resp->status,
             what != NULL ? what : "no access_token in the reply");
  }
  json_decref(doc);
  return ok;
}

/* Fetches a new token (lock held). */
static h_result fetch(struct h_fcm_auth *a, struct h_http *http, char *err, size_t errlen,
                      int *retry_after_s) {
  char *assertion = h_fcm_auth_assertion(a, time(NULL));
  if (assertion == NULL) {
    snprintf(err, errlen, "signing the service-account assertion failed");
    return H_ERR_INTERNAL;
  }
  const char *pairs[] = {"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer",
                         "assertion", assertion, NULL};
  char *form = h_http_form_encode(pairs);
  const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
  struct h_http_request rq = {.method = "POST", .url = a->token_uri, .headers = headers,
                              .body = form, .body_len = strlen(form)};
  struct h_http_response resp;
  h_result r = h_http_send(http, &rq, &resp);
  *retry_after_s = resp.retry_after_s;
  if (r != H_OK) {
    snprintf(err, errlen, "token endpoint: %s", resp.error);
  } else if (!take_token(a, &resp, err, errlen)) {
    r = H_ERR_UNAVAILABLE;
  }
  h_http_response_free(&resp);
  free(form);
  free(assertion);
  return r == H_OK ? H_OK : H_ERR_UNAVAILABLE;
}

h_result h_fcm_auth_token(struct h_fcm_auth *a, struct h_http *http, char *out, size_t outlen,
                          char *err, size_t errlen, int *retry_after_s) {
  *retry_after_s = -1;
  pthread_mutex_lock(&a->lock);
  h_result r = H_OK;
  if (a->token[0] == '\0' || time(NULL) >= a->expires_at) {
    r = fetch(a, http, err, errlen, retry_after_s);
    if (r == H_OK) {
      h_log_info("fcm: access token obtained from %s (valid %ld s)", a->token_uri,
                 (long)(a->expires_at - time(NULL)));
    }
  }
  if (r == H_OK) {
    snprintf(out, outlen, "%s", a->token);
  }
  pthread_mutex_unlock(&a->lock);
  return r;
}

void h_fcm_auth_invalidate(struct h_fcm_auth *a, const char *token) {
  pthread_mutex_lock(&a->lock);
  if (strcmp(a->token, token) == 0) {
    a->token[0] = '\0';
  }
  pthread_mutex_unlock(&a->lock);
}
