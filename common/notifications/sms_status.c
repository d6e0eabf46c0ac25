/* sms_status.c - SMS delivery receipts: the provider's status recorded on the delivery,
 * forward only (a late "sent" never overwrites "delivered"), with a delivery event and an
 * audit row, in one transaction. */
#include "notifications/sms_status.h"

#include <string.h>

#include "store/db.h"
#include "notifications/sms_status_repo.h"

int h_sms_status_rank(const char *status) {
  static const char *const ranks[][6] = {
    {"accepted", "queued", "scheduled", NULL},
    {"sending", NULL},
    {"sent", NULL},
    {"delivered", "undelivered", "failed", "canceled", "read", NULL},
  };
  if (status == NULL || status[0] == '\0') {
    return -1;
  }
  for (int r = 0; r < 4; r++) {
    for (int i = 0; ranks[r][i] != NULL; i++) {
      if (strcmp(ranks[r][i], status) == 0) {
        return r;
      }
    }
  }
  return -2;
}

bool h_sms_message_id_ok(const char *sid) {
  static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789-_.:@/+=~";
  size_t len = sid != NULL ? strlen(sid) : 0;
  return len >= 1 && len <= H_SMS_MESSAGE_ID_MAX && strspn(sid, allowed) == len;
}

/* One receipt to record (borrowed) and whether it was. */
struct receipt {
  const char *provider, *sid, *status, *error_code;
  const struct h_actor *actor;
  bool recorded;
};

static h_result record_tx(PGconn *conn, void *arg) {
  struct receipt *rc = arg;
  struct h_sms_receipt_row row;
  h_result r = h_sms_status_repo_find(conn, rc->provider, rc->sid, &row);
  if (r != H_OK || h_sms_status_rank(rc->status) <= h_sms_status_rank(row.provider_status)) {
    return r; /* unknown message, or a late or repeated callback: nothing to change */
  }
  r = h_sms_status_repo_apply(conn, &row, rc->status, rc->error_code);
  if (r == H_OK) {
    json_t *details = json_pack("{ssss*}", "provider_status", rc->status, "error_code",
                                rc->error_code);
    r = h_audit_write(conn, rc->actor, "delivery.provider_status", "delivery", row.id, details,
                      false);
    json_decref(details);
  }
  rc->recorded = r == H_OK;
  return r;
}

h_result h_sms_status_record(struct h_app *app, const struct h_actor *actor, const char *provider,
                             const char *sid, const char *status, const char *error_code,
                             bool *recorded) {
  struct receipt rc = {provider, sid, status, error_code, actor, false};
  h_result r = h_db_tx(app->db, record_tx, &rc);
  *recorded = rc.recorded;
  return r;
}
