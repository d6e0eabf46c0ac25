/* security_alert.h - notifications Herald sends about the account itself (a new sign-in
 * from a new device or network, password changed or reset, two-factor turned on or off,
 * a refresh token used twice, an API key created). Category `security`, priority
 * critical (quiet hours never hold them back), through the ordinary pipeline: the user
 * picks the channels in their preferences, but when those would turn off every channel
 * the in-app and e-mail deliveries are kept (notifications/delivery_plan.c). The text
 * names the event, the IP address and the client, never a password, code, token or key. */
#ifndef HERALD_SECURITY_ALERT_H
#define HERALD_SECURITY_ALERT_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/result.h"
#include "queue/push_list.h"

enum h_security_event {
  H_SEC_NEW_SIGN_IN,
  H_SEC_PASSWORD_CHANGED,
  H_SEC_PASSWORD_RESET,
  H_SEC_MFA_ENABLED,
  H_SEC_MFA_DISABLED,
  H_SEC_TOKEN_REUSE,
  H_SEC_API_KEY_CREATED,
};

/* The event's name in the alert's data ("new_sign_in", ...). Static. */
const char *h_security_event_name(enum h_security_event ev);

/* Writes the alert for user_id in the open transaction of c; actor (borrowed) gives the IP
 * address and User-Agent shown, detail (may be NULL) one more harmless word such as the
 * API key's name. The delivery ids to push after COMMIT are appended to push. */
h_result h_security_alert(PGconn *c, const char *user_id, enum h_security_event ev,
                          const struct h_actor *actor, const char *detail,
                          struct h_push_list *push);

/* On a new sign-in: records the client's device (User-Agent) and network (the /24 of an
 * IPv4 address, /48 of IPv6) for user_id in c's transaction and writes a
 * H_SEC_NEW_SIGN_IN alert when either was not seen before for the user (except on the
 * account's very first sign-in). */
h_result h_security_sign_in(PGconn *c, const char *user_id, const struct h_actor *actor,
                            struct h_push_list *push);

/* After COMMIT (r == H_OK): pushes the ids and tells user_id's live streams; empties push
 * whatever r. */
void h_security_alert_push(struct h_app *app, h_result r, const char *user_id,
                           struct h_push_list *push, const char *request_id);

#endif
