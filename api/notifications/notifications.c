/* notifications.c - POST /api/v1/notifications and the user's feed
 * (/api/v1/notifications[/{id}[/read|/unread]], /read-all, /unread-count). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "inbox/feed_service.h"
#include "notifications/notification_input.h"
#include "notifications/notification_service.h"
#include "notifications/notifications.h"
#include "core/alloc.h"
#include "http/idempotency.h"
#include "http/park.h"
#include "http/routes.h"
#include "http/request.h"

void h_reply_notify_failure(struct h_req *rq, h_result r, const struct h_notify_error *err) {
  if (err != NULL && (r == H_ERR_UNPROCESSABLE || (r == H_ERR_CONFLICT && err->code[0] != '\0'))) {
    h_reply_error(rq, r, err->code, err->message, err->param[0] != '\0' ? err->param : NULL);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such notification.", NULL);
  } else {
    h_reply_error(rq, r, NULL, "The request could not be completed; try again later.", NULL);
  }
}

/* The reply to a send whose outcome is r (text: the 202's, NULL unless r is H_OK; freed
 * here). A deferred key another request holds is claimed here and the send made again,
 * waiting. */
static void post_answer(struct h_req *rq, h_result r, const struct h_notify_request *req,
                        struct h_idem *idem, const struct h_actor *actor,
                        struct h_notify_error *err, char *text) {
  if (r == H_ERR_CONFLICT && idem->deferred) {
    /* Another request holds the key: answer what it stored (or 400, 409), or claim the key
     * (its holder gone or expired) and send again. */
    if (!h_http_idem_begin(rq, idem)) {
      return;
    }
    r = h_notification_send(rq->app, actor, req, idem, &text, err);
  }
  if (r == H_OK) {
    h_reply_json_text(rq, 202, text); /* with a key, as its idempotency record stored it */
    free(text);
  } else {
    h_idem_abort(rq->app->db, idem);
    h_reply_notify_failure(rq, r, err);
  }
}

/* A send parked while the group commit writes it (http/park.h): what post_answer needs,
 * borrowed from rq (kept alive while parked: req's strings are in rq->body). */
struct parked_send {
  struct h_notify_request req;
  struct h_idem idem;
  struct h_actor actor;
  struct h_notify_error err;
  struct h_notification_send *send;
};

static void parked_send_done(void *rq) { h_park_wake(rq); }

static void parked_send_resume(struct h_req *rq, void *state) {
  struct parked_send *p = state;
  char *text = NULL;
  h_result r = h_notification_send_end(p->send, &text);
  post_answer(rq, r, &p->req, &p->idem, &p->actor, &p->err, text);
  free(p);
}

void h_notifications_post(struct h_req *rq) {
  static const char *const allowed[] = {"user_id", "category", "priority", "channels",
                                        "template", "data", "title", "body", "action_url",
                                        "send_at", "push", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_notify_request req = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  req.user_id = h_field_string(rq->body, "user_id", true, 36, &fe);
  if (req.user_id != NULL && !h_uuid_valid(req.user_id)) {
    h_field_error(&fe, "user_id", "invalid_id", "Must be a user id.");
  }
  h_notify_parse_common(rq->body, NULL, time(NULL), &req, &fe);
  struct h_idem idem;
  if (!h_http_idem_defer_valid(rq, &fe, &idem, h_notification_defers_keys(rq->app))) {
    return;
  }
  if (h_park_possible(rq) && h_notification_defers_keys(rq->app)) {
    struct parked_send *p = h_calloc(1, sizeof(*p));
    *p = (struct parked_send){.req = req, .idem = idem, .actor = h_actor_of(rq)};
    h_park(rq, parked_send_resume, p); /* before the hand-over: its answer may come at once */
    p->send = h_notification_send_begin(rq->app, &p->actor, &p->req, &p->idem, &p->err,
                                        parked_send_done, rq);
    if (p->send != NULL) {
      return;
    }
    h_park_cancel(rq); /* not queued (stopping): answered below, as without parking */
    free(p);
  }
  struct h_actor actor = h_actor_of(rq);
  struct h_notify_error err = {{0}, {0}, {0}};
  char *text = NULL;
  h_result r = h_notification_send(rq->app, &actor, &req, &idem, &text, &err);
  post_answer(rq, r, &req, &idem, &actor, &err, text);
}

/* ?since= and ?until= (RFC 3339, since before until) into f. */
static void feed_dates(struct h_req *rq, struct h_feed_filter *f, struct h_field_errors *fe) {
  const char *names[] = {"since", "until"};
  const char **dst[] = {&f->since, &f->until};
  time_t t[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    *dst[i] = h_req_param(rq, names[i]);
    if (*dst[i] != NULL && (strlen(*dst[i]) > 64 || !h_rfc3339_parse(*dst[i], &t[i]))) {
      h_field_error(fe, names[i], "invalid_filter",
                    "Must be an RFC 3339 timestamp such as 2027-01-31T09:00:00Z.");
      *dst[i] = NULL;
    }
  }
  if (f->since != NULL && f->until != NULL && t[0] >= t[1]) {
    h_field_error(fe, "until", "invalid_range", "Must be after since.");
  }
}

/* ?q= (1-200 bytes of words) and ?archived=true|false into f. */
static void feed_search(struct h_req *rq, struct h_feed_filter *f, struct h_field_errors *fe) {
  f->q = h_req_param(rq, "q");
  if (f->q != NULL) {
    size_t n = strlen(f->q), blank = strspn(f->q, " \t");
    if (n == 0 || blank == n || n > 200) {
      h_field_error(fe, "q", "invalid_filter", "Must be 1 to 200 bytes of words to look for.");
    }
  }
  const char *archived = h_req_param(rq, "archived");
  if (archived != NULL && strcmp(archived, "true") != 0 && strcmp(archived, "false") != 0) {
    h_field_error(fe, "archived", "invalid_filter", "Must be true or false.");
  }
  f->archived = archived != NULL && strcmp(archived, "true") == 0;
}

/* ?unread=true|false, ?category=, ?priority=, ?q=, ?archived=, ?since=, ?until= into f. */
static void feed_filter(struct h_req *rq, struct h_feed_filter *f, struct h_field_errors *fe) {
  memset(f, 0, sizeof(*f));
  feed_dates(rq, f, fe);
  feed_search(rq, f, fe);
  const char *unread = h_req_param(rq, "unread");
  f->unread = -1;
  if (unread != NULL) {
    if (strcmp(unread, "true") == 0 || strcmp(unread, "false") == 0) {
      f->unread = unread[0] == 't';
    } else {
      h_field_error(fe, "unread", "invalid_filter", "Must be true or false.");
    }
  }
  f->category = h_req_param(rq, "category");
  if (f->category != NULL && !h_category_valid(f->category)) {
    h_field_error(fe, "category", "invalid_filter", "Must be a category name.");
  }
  f->priority = h_req_param(rq, "priority");
  if (f->priority != NULL && strcmp(f->priority, "low") != 0 &&
      strcmp(f->priority, "normal") != 0 && strcmp(f->priority, "high") != 0 &&
      strcmp(f->priority, "critical") != 0) {
    h_field_error(fe, "priority", "invalid_filter", "Must be low, normal, high or critical.");
  }
}

void h_notifications_get(struct h_req *rq) {
  struct h_field_errors fe = {0};
  struct h_page page;
  struct h_feed_filter filter;
  h_page_parse(rq, &page, &fe);
  feed_filter(rq, &filter, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  char *body = NULL;
  h_result r = h_feed_page_body(rq->app, rq->user_id, &filter, &page, &body);
  if (r == H_OK) {
    h_reply_text(rq, 200, "application/json", body);
    free(body);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_notifications_unread_count_get(struct h_req *rq) {
  long count = 0;
  h_result r = h_notification_unread_count(rq->app, rq->user_id, &count);
  if (r == H_OK) {
    h_reply_json(rq, 200, json_pack("{sssI}", "object", "unread_count", "unread_count",
                                    (json_int_t)count));
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

/* The :id path parameter, or a 404 reply when it is not a UUID. */
static const char *notification_id(struct h_req *rq) {
  const char *id = h_req_param(rq, "id");
  if (!h_uuid_valid(id)) {
    h_reply_error(rq, H_ERR_NOT_FOUND, "not_found", "No such notification.", NULL);
    return NULL;
  }
  return id;
}

void h_notification_get(struct h_req *rq) {
  const char *id = notification_id(rq);
  if (id == NULL) {
    return;
  }
  json_t *n = NULL;
  bool admin = strcmp(rq->role, "admin") == 0;
  h_result r = h_notification_find(rq->app, id, rq->user_id, admin, &n);
  if (r == H_OK) {
    h_reply_json(rq, 200, n);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

static void mark(struct h_req *rq, bool read) {
  const char *id = notification_id(rq);
  if (id == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *n = NULL;
  h_result r = h_notification_mark(rq->app, &actor, id, read, &n);
  if (r == H_OK) {
    h_reply_json(rq, 200, n);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_notification_read_post(struct h_req *rq) { mark(rq, true); }
void h_notification_unread_post(struct h_req *rq) { mark(rq, false); }

void h_notifications_read_all_post(struct h_req *rq) {
  struct h_actor actor = h_actor_of(rq);
  long updated = 0;
  h_result r = h_notification_read_all(rq->app, &actor, &updated);
  if (r == H_OK) {
    h_reply_json(rq, 200, json_pack("{sssIsi}", "object", "notification_read_all", "updated",
                                    (json_int_t)updated, "unread_count", 0));
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_notification_delete(struct h_req *rq) {
  const char *id = notification_id(rq);
  if (id == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_notification_remove(rq->app, &actor, id);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

static void archive(struct h_req *rq, bool archived) {
  const char *id = notification_id(rq);
  if (id == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *n = NULL;
  h_result r = h_notification_archive(rq->app, &actor, id, archived, &n);
  if (r == H_OK) {
    h_reply_json(rq, 200, n);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_notification_archive_post(struct h_req *rq) { archive(rq, true); }
void h_notification_unarchive_post(struct h_req *rq) { archive(rq, false); }

void h_notifications_clear_post(struct h_req *rq) {
  struct h_actor actor = h_actor_of(rq);
  long cleared = 0;
  h_result r = h_notification_clear(rq->app, &actor, &cleared);
  if (r == H_OK) {
    h_reply_json(rq, 200, json_pack("{sssIsi}", "object", "notification_clear", "cleared",
                                    (json_int_t)cleared, "unread_count", 0));
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}
