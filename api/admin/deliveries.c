/* deliveries.c - /api/v1/admin/queues and /api/v1/admin/deliveries[/stats|/{id}/retry]. */
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "notifications/delivery_plan.h"
#include "notifications/delivery_service.h"
#include "notifications/notifications.h"
#include "http/request.h"

static bool one_of(const char *s, const char *const *list) {
  for (int i = 0; list[i] != NULL; i++) {
    if (strcmp(s, list[i]) == 0) {
      return true;
    }
  }
  return false;
}

void h_admin_queues_get(struct h_req *rq) {
  json_t *list = NULL;
  h_result r = h_queue_overview(rq->app, &list);
  if (r == H_OK) {
    h_reply_json(rq, 200, list);
  } else {
    h_reply_header(rq, "Retry-After", "5");
    h_reply_error(rq, r, NULL, "Redis is unavailable; queue lengths cannot be read.", NULL);
  }
}

/* A query parameter that must be a UUID when present. */
static const char *uuid_param(struct h_req *rq, const char *name, struct h_field_errors *fe) {
  const char *v = h_req_param(rq, name);
  if (v != NULL && !h_uuid_valid(v)) {
    h_field_error(fe, name, "invalid_id", "Must be an object id.");
  }
  return v;
}

static const char *time_param(struct h_req *rq, const char *name, struct h_field_errors *fe) {
  const char *v = h_req_param(rq, name);
  if (v != NULL && !h_valid_timestamp(v)) {
    h_field_error(fe, name, "invalid_timestamp", "Must be an RFC 3339 timestamp.");
  }
  return v;
}

void h_admin_deliveries_get(struct h_req *rq) {
  static const char *const statuses[] = {"queued",   "scheduled", "processing", "sent",
                                         "failed",   "dead",      "skipped",    "held",
                                         "digest",   "digested",  "throttled",  "capped",
                                         NULL};
  struct h_field_errors fe = {0};
  struct h_page page;
  struct h_delivery_filter f = {0};
  h_page_parse(rq, &page, &fe);
  f.status = h_req_param(rq, "status");
  if (f.status != NULL && !one_of(f.status, statuses)) {
    h_field_error(&fe, "status", "invalid_filter",
                  "Must be queued, scheduled, processing, sent, failed, dead, skipped, held,"
                  " digest, digested, throttled or capped.");
  }
  f.channel = h_req_param(rq, "channel");
  if (f.channel != NULL && h_channel_parse(f.channel) < 0) {
    h_field_error(&fe, "channel", "invalid_filter", "Must be in_app, email, sms or push.");
  }
  f.user_id = uuid_param(rq, "user_id", &fe);
  f.notification_id = uuid_param(rq, "notification_id", &fe);
  f.created_gte = time_param(rq, "created_gte", &fe);
  f.created_lte = time_param(rq, "created_lte", &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_delivery_list(rq->app, &f, &page, &data, &more);
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, more));
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_admin_delivery_stats_get(struct h_req *rq) {
  struct h_field_errors fe = {0};
  const char *since = time_param(rq, "since", &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  char day_ago[32];
  if (since == NULL) {
    time_t t = time(NULL) - 24 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(day_ago, sizeof(day_ago), "%Y-%m-%dT%H:%M:%SZ", &tm);
    since = day_ago;
  }
  json_t *stats = NULL;
  h_result r = h_delivery_stats(rq->app, since, &stats);
  if (r == H_OK) {
    h_reply_json(rq, 200, stats);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

void h_admin_delivery_retry_post(struct h_req *rq) {
  const char *id = h_req_param(rq, "id");
  struct h_actor actor = h_actor_of(rq);
  json_t *delivery = NULL;
  h_result r = h_uuid_valid(id) ? h_delivery_retry(rq->app, &actor, id, &delivery)
                                : H_ERR_NOT_FOUND;
  if (r == H_OK) {
    h_reply_json(rq, 200, delivery);
  } else if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such delivery.", NULL);
  } else if (r == H_ERR_CONFLICT) {
    h_reply_error(rq, r, "not_retryable", "Only a dead or failed delivery can be retried.", NULL);
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}
