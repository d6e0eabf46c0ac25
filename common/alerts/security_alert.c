/* security_alert.c - the security alerts' text, the known sign-in origins and the
 * after-commit push. */
#include "alerts/security_alert.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox/stream_bus.h"
#include "notifications/delivery_plan.h"
#include "notifications/notify.h"
#include "notifications/notification_service.h"
#include "store/db.h"

static const struct {
  const char *name, *title, *body;
} events[] = {
  [H_SEC_NEW_SIGN_IN] = {"new_sign_in", "New sign-in to your account",
                         "Your account was signed in to from a device or network it had not"
                         " used before"},
  [H_SEC_PASSWORD_CHANGED] = {"password_changed", "Your password was changed",
                              "The password of your account was changed and every other"
                              " session was signed out"},
  [H_SEC_PASSWORD_RESET] = {"password_reset", "Your password was reset",
                            "The password of your account was reset with a link sent to your"
                            " e-mail address"},
  [H_SEC_MFA_ENABLED] = {"mfa_enabled", "Two-factor authentication is on",
                         "Two-factor authentication was turned on for your account"},
  [H_SEC_MFA_DISABLED] = {"mfa_disabled", "Two-factor authentication is off",
                          "Two-factor authentication was turned off for your account"},
  [H_SEC_TOKEN_REUSE] = {"refresh_token_reused", "A sign-in of yours was ended",
                         "A session token of your account was used again after it had been"
                         " replaced, so someone may hold a copy; that sign-in was ended on"
                         " every device"},
  [H_SEC_API_KEY_CREATED] = {"api_key_created", "An API key was created",
                             "An API key was created by your account"},
};

const char *h_security_event_name(enum h_security_event ev) {
  return events[ev].name;
}

/* The client as shown: the User-Agent cut at 120 bytes (without breaking a character),
 * or "an unknown client". Writes into out. */
static void client_of(const struct h_actor *actor, char *out, size_t n) {
  const char *ua = actor != NULL && actor->user_agent != NULL && actor->user_agent[0] != '\0'
                       ? actor->user_agent
                       : "an unknown client";
  size_t len = strlen(ua) < 120 ? strlen(ua) : 120;
  while (len > 0 && len < strlen(ua) && ((unsigned char)ua[len] & 0xC0) == 0x80) {
    len--;
  }
  snprintf(out, n, "%.*s", (int)len, ua);
}

h_result h_security_alert(PGconn *c, const char *user_id, enum h_security_event ev,
                          const struct h_actor *actor, const char *detail,
                          struct h_push_list *push) {
  char client[128];
  client_of(actor, client, sizeof(client));
  const char *ip = actor != NULL && actor->ip != NULL ? actor->ip : "unknown";
  char *body = NULL;
  if (asprintf(&body, "%s%s%s%s (from %s, %s). If this was not you, reset your password and"
               " sign out every session.", events[ev].body, detail != NULL ? ": \"" : "",
               detail != NULL ? detail : "", detail != NULL ? "\"" : "", ip, client) < 0) {
    return H_ERR_INTERNAL;
  }
  json_t *data = json_pack("{ssssss}", "event", events[ev].name, "ip", ip, "client", client);
  struct h_notify_request req = {
    .user_id = user_id, .category = H_CATEGORY_SECURITY, .priority = "critical",
    .title = events[ev].title, .body = body, .data = data};
  json_t *out = NULL;
  struct h_notify_error err;
  h_result r = h_notify_in_tx(c, &req, NULL, &out, push, &err);
  json_decref(out);
  json_decref(data);
  free(body);
  return r == H_ERR_UNPROCESSABLE ? H_OK : r; /* the account is gone: nobody to tell */
}

h_result h_security_sign_in(PGconn *c, const char *user_id, const struct h_actor *actor,
                            struct h_push_list *push) {
  char client[128];
  client_of(actor, client, sizeof(client));
  unsigned char addr[sizeof(struct in6_addr)];
  const char *ip = actor != NULL ? actor->ip : NULL;
  if (ip != NULL && inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1) {
    ip = NULL; /* no network to remember */
  }
  const char *params[] = {user_id, client, ip};
  PGresult *res = NULL;
  h_result r = h_db_exec(c,
      "WITH known AS (SELECT count(*) AS n FROM sign_in_origins WHERE user_id = $1::uuid),"
      " net AS (SELECT CASE WHEN $3::text IS NOT NULL"
      "   THEN network(set_masklen($3::inet, CASE WHEN family($3::inet) = 4 THEN 24 ELSE 48"
      "   END))::text END AS v),"
      " seen AS (INSERT INTO sign_in_origins (user_id, kind, value)"
      "   SELECT $1::uuid, 'device', md5($2) UNION ALL"
      "   SELECT $1::uuid, 'network', v FROM net WHERE v IS NOT NULL"
      "   ON CONFLICT (user_id, kind, value) DO UPDATE SET last_seen_at = now()"
      "   RETURNING (xmax = 0) AS fresh)"
      " SELECT (SELECT n FROM known) > 0 AND bool_or(fresh) FROM seen",
      3, params, &res);
  if (r != H_OK) {
    return r;
  }
  bool alert = PQgetvalue(res, 0, 0)[0] == 't';
  PQclear(res);
  return alert ? h_security_alert(c, user_id, H_SEC_NEW_SIGN_IN, actor, NULL, push) : H_OK;
}

void h_security_alert_push(struct h_app *app, h_result r, const char *user_id,
                           struct h_push_list *push, const char *request_id) {
  if (r == H_OK && push->n > 0) {
    h_notification_push(app, push, request_id);
    h_stream_publish_one(app, H_STREAM_KIND_FEED, user_id);
  }
  h_push_list_clear(push);
}
