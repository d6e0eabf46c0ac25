/* feedback.c - e-mail suppressions and inbound SMS keywords (see feedback.h). */
#include "channels/feedback.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "channels/feedback_repo.h"
#include "core/log.h"
#include "notifications/notification_service.h"
#include "notifications/notify.h"
#include "store/db.h"

struct email_op {
  const struct h_actor *actor;
  const char *provider;
  const struct h_email_report *reports;
  size_t n, suppressed;
};

static h_result email_tx(PGconn *conn, void *arg) {
  struct email_op *op = arg;
  op->suppressed = 0;
  for (size_t i = 0; i < op->n; i++) {
    const struct h_email_report *rp = &op->reports[i];
    bool created = false;
    h_result r = h_feedback_repo_suppress(conn, rp->email, rp->reason, op->provider,
                                          rp->event_id, rp->detail, &created);
    if (r == H_OK && created) {
      char masked[96];
      h_mask_email(rp->email, masked, sizeof(masked));
      json_t *d = json_pack("{ssssssss*}", "email", masked, "reason", rp->reason, "provider",
                            op->provider, "event_id", rp->event_id);
      r = h_audit_write(conn, op->actor, "email.suppressed", "email_address", NULL, d, false);
      json_decref(d);
      op->suppressed++;
    }
    if (r != H_OK) {
      return r;
    }
  }
  return H_OK;
}

h_result h_feedback_email(struct h_app *app, const struct h_actor *actor, const char *provider,
                          const struct h_email_report *reports, size_t n, size_t *suppressed) {
  struct email_op op = {actor, provider, reports, n, 0};
  h_result r = n == 0 ? H_OK : h_db_tx(app->db, email_tx, &op);
  *suppressed = r == H_OK ? op.suppressed : 0;
  return r;
}

enum h_sms_keyword h_sms_keyword_parse(const char *text) {
  static const struct {
    const char *word;
    enum h_sms_keyword kw;
  } words[] = {{"STOP", H_SMS_KEYWORD_STOP},   {"STOPALL", H_SMS_KEYWORD_STOP},
               {"UNSUBSCRIBE", H_SMS_KEYWORD_STOP}, {"CANCEL", H_SMS_KEYWORD_STOP},
               {"END", H_SMS_KEYWORD_STOP},    {"QUIT", H_SMS_KEYWORD_STOP},
               {"START", H_SMS_KEYWORD_START}, {"YES", H_SMS_KEYWORD_START},
               {"UNSTOP", H_SMS_KEYWORD_START}, {"HELP", H_SMS_KEYWORD_HELP},
               {"INFO", H_SMS_KEYWORD_HELP}};
  if (text == NULL) {
    return H_SMS_KEYWORD_NONE;
  }
  const char *p = text;
  while (*p != '\0' && !isalpha((unsigned char)*p)) {
    if (!isspace((unsigned char)*p) && !ispunct((unsigned char)*p)) {
      return H_SMS_KEYWORD_NONE;
    }
    p++;
  }
  size_t len = 0;
  while (isalpha((unsigned char)p[len])) {
    len++;
  }
  for (const char *q = p + len; *q != '\0'; q++) { /* one word, then nothing but blanks */
    if (!isspace((unsigned char)*q) && !ispunct((unsigned char)*q)) {
      return H_SMS_KEYWORD_NONE;
    }
  }
  for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
    if (strlen(words[i].word) == len && strncasecmp(words[i].word, p, len) == 0) {
      return words[i].kw;
    }
  }
  return H_SMS_KEYWORD_NONE;
}

struct sms_op {
  struct h_app *app;
  const struct h_actor *actor;
  const char *provider, *phone;
  enum h_sms_keyword kw;
  bool send_help;
  size_t users;
  struct h_push_list push;
};

/* Queues the help text to the oldest account of op->phone. */
static h_result help_tx(PGconn *conn, struct sms_op *op) {
  char user_id[37];
  h_result r = h_feedback_repo_user_by_phone(conn, op->phone, user_id);
  if (r != H_OK) {
    return r == H_ERR_NOT_FOUND ? H_OK : r;
  }
  op->users = 1;
  struct h_notify_request req = {.user_id = user_id, .category = "sms_help",
                                 .priority = "critical",
                                 .channels = H_CHANNEL_BIT(H_CHANNEL_SMS), .title = "Help",
                                 .body = op->app->cfg->sms_help_text};
  struct h_notify_error err;
  json_t *out = NULL;
  r = h_notify_in_tx(conn, &req, NULL, NULL, &out, &op->push, &err);
  json_decref(out);
  return r;
}

static h_result sms_tx(PGconn *conn, void *arg) {
  struct sms_op *op = arg;
  h_push_list_clear(&op->push);
  op->users = 0;
  if (op->kw == H_SMS_KEYWORD_HELP) {
    return op->send_help ? help_tx(conn, op) : H_OK;
  }
  json_t *ids = NULL;
  bool on = op->kw == H_SMS_KEYWORD_START;
  h_result r = h_feedback_repo_sms_pref(conn, op->phone, on, &ids);
  size_t i;
  json_t *id;
  json_array_foreach(ids, i, id) {
    json_t *d = json_pack("{sbss}", "sms", on, "provider", op->provider);
    r = r == H_OK ? h_audit_write(conn, op->actor, on ? "preferences.sms_start"
                                                      : "preferences.sms_stop",
                                  "user", json_string_value(id), d, false)
                  : r;
    json_decref(d);
  }
  op->users = json_array_size(ids);
  json_decref(ids);
  return r;
}

h_result h_feedback_sms_keyword(struct h_app *app, const struct h_actor *actor,
                                const char *provider, const char *phone, enum h_sms_keyword kw,
                                bool send_help, size_t *users) {
  struct sms_op op = {app, actor, provider, phone, kw, send_help, 0, {0}};
  h_result r = kw == H_SMS_KEYWORD_NONE ? H_OK : h_db_tx(app->db, sms_tx, &op);
  if (r == H_OK) {
    h_notification_push(app, &op.push, actor->request_id);
  }
  h_push_list_clear(&op.push);
  *users = r == H_OK ? op.users : 0;
  return r;
}
