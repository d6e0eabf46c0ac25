/* routes.c - the route table and its registration on ulfius. */
#include "http/routes.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin/audit.h"
#include "admin/disputes.h"
#include "billing/billing.h"
#include "admin/reconciliations.h"
#include "auth/auth.h"
#include "channels/channels.h"
#include "users/security.h"
#include "core/alloc.h"
#include "http/health.h"
#include "http/middleware.h"
#include "notifications/notifications.h"
#include "notifications/unsubscribe.h"
#include "payments/payments.h"
#include "users/users.h"
#include "webhooks/sms.h"

/* A route that does not wait leaves `waits` out (false). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct h_route routes[] = {
  {"GET", "/healthz", h_health_get, H_AUTH_NONE},
  {"GET", "/readyz", h_ready_get, H_AUTH_NONE},
  {"GET", "/metrics", h_metrics_get, H_AUTH_NONE},
  {"GET", "/api/v1/openapi.json", h_openapi_get, H_AUTH_NONE},
  {"GET", "/openapi.json", h_openapi_get, H_AUTH_NONE},
  {"GET", "/openapi.yaml", h_openapi_yaml_get, H_AUTH_NONE},
  {"GET", "/api/v1/unsubscribe", h_unsubscribe_get, H_AUTH_NONE},
  {"POST", "/api/v1/unsubscribe", h_unsubscribe_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/register", h_auth_register_post, H_AUTH_NONE, H_WAITS},
  {"POST", "/api/v1/auth/login", h_auth_login_post, H_AUTH_NONE, H_WAITS},
  {"POST", "/api/v1/auth/refresh", h_auth_refresh_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/logout", h_auth_logout_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/password-reset", h_auth_reset_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/password-reset/confirm", h_auth_reset_confirm_post, H_AUTH_NONE, H_WAITS},
  {"POST", "/api/v1/auth/verify-email", h_auth_verify_email_post, H_AUTH_NONE},
  {"POST", "/api/v1/auth/verify-email/resend", h_auth_verify_resend_post, H_AUTH_USER},
  {"POST", "/api/v1/auth/mfa/verify", h_auth_mfa_verify_post, H_AUTH_NONE},
  {"GET", "/api/v1/users/me", h_me_get, H_AUTH_USER},
  {"PATCH", "/api/v1/users/me", h_me_patch, H_AUTH_USER},
  {"DELETE", "/api/v1/users/me", h_me_delete, H_AUTH_USER},
  {"POST", "/api/v1/users/me/password", h_me_password_post, H_AUTH_USER, H_WAITS},
  {"GET", "/api/v1/users/me/export", h_me_export_get, H_AUTH_USER},
  {"GET", "/api/v1/users/me/sessions", h_me_sessions_get, H_AUTH_USER},
  {"DELETE", "/api/v1/users/me/sessions", h_me_sessions_delete, H_AUTH_USER},
  {"DELETE", "/api/v1/users/me/sessions/:id", h_me_session_delete, H_AUTH_USER},
  {"POST", "/api/v1/users/me/mfa/totp", h_me_mfa_enrol_post, H_AUTH_USER},
  {"POST", "/api/v1/users/me/mfa/totp/confirm", h_me_mfa_confirm_post, H_AUTH_USER},
  {"POST", "/api/v1/users/me/mfa/totp/disable", h_me_mfa_disable_post, H_AUTH_USER},
  {"GET", "/api/v1/admin/users", h_admin_users_get, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/users/:id", h_admin_user_get, H_AUTH_ADMIN},
  {"PATCH", "/api/v1/admin/users/:id", h_admin_user_patch, H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/api-keys", h_api_keys_post, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/api-keys", h_api_keys_get, H_AUTH_ADMIN},
  {"DELETE", "/api/v1/admin/api-keys/:id", h_api_keys_delete, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/audit-log", h_audit_log_get, H_AUTH_ADMIN},
  {"GET", "/docs", h_docs_get, H_AUTH_NONE},
  {"GET", "/docs/:file", h_docs_asset_get, H_AUTH_NONE},
  {"GET", "/demo", h_demo_get, H_AUTH_NONE},
  {"GET", "/demo/:file", h_demo_file_get, H_AUTH_NONE},
  /* notifications (api/notifications/notifications.h) */
  {"POST", "/api/v1/notifications", h_notifications_post, H_AUTH_SERVICE},
  {"GET", "/api/v1/notifications", h_notifications_get, H_AUTH_USER},
  {"GET", "/api/v1/notifications/unread-count", h_notifications_unread_count_get, H_AUTH_USER},
  {"POST", "/api/v1/notifications/read-all", h_notifications_read_all_post, H_AUTH_USER},
  {"POST", "/api/v1/notifications/clear", h_notifications_clear_post, H_AUTH_USER},
  {"GET", "/api/v1/notifications/stream", h_notifications_stream_get, H_AUTH_NONE},
  {"POST", "/api/v1/notifications/stream-tickets", h_notifications_stream_tickets_post,
   H_AUTH_USER},
  {"POST", "/api/v1/notifications/bulk", h_notifications_bulk_post, H_AUTH_SERVICE},
  {"GET", "/api/v1/notifications/:id", h_notification_get, H_AUTH_USER},
  {"DELETE", "/api/v1/notifications/:id", h_notification_delete, H_AUTH_USER},
  {"POST", "/api/v1/notifications/:id/read", h_notification_read_post, H_AUTH_USER},
  {"POST", "/api/v1/notifications/:id/unread", h_notification_unread_post, H_AUTH_USER},
  {"POST", "/api/v1/notifications/:id/archive", h_notification_archive_post, H_AUTH_USER},
  {"POST", "/api/v1/notifications/:id/unarchive", h_notification_unarchive_post, H_AUTH_USER},
  {"GET", "/api/v1/notification-batches/:id", h_notification_batch_get, H_AUTH_SERVICE},
  {"POST", "/api/v1/announcements", h_announcements_post, H_AUTH_SERVICE},
  {"GET", "/api/v1/announcements", h_announcements_get, H_AUTH_SERVICE},
  {"GET", "/api/v1/announcements/:id", h_announcement_get, H_AUTH_SERVICE},
  {"PATCH", "/api/v1/announcements/:id", h_announcement_patch, H_AUTH_SERVICE},
  {"POST", "/api/v1/announcements/:id/withdraw", h_announcement_withdraw_post, H_AUTH_SERVICE},
  {"GET", "/api/v1/users/me/preferences", h_preferences_get, H_AUTH_USER},
  {"PUT", "/api/v1/users/me/preferences", h_preferences_put, H_AUTH_USER},
  {"GET", "/api/v1/users/me/topics", h_my_topics_get, H_AUTH_USER},
  {"PUT", "/api/v1/users/me/topics/:key", h_my_topic_put, H_AUTH_USER},
  {"DELETE", "/api/v1/users/me/topics/:key", h_my_topic_delete, H_AUTH_USER},
  {"GET", "/api/v1/topics", h_topics_get, H_AUTH_USER},
  {"POST", "/api/v1/topics", h_topics_post, H_AUTH_SERVICE},
  {"POST", "/api/v1/devices", h_devices_post, H_AUTH_USER},
  {"GET", "/api/v1/devices", h_devices_get, H_AUTH_USER},
  {"DELETE", "/api/v1/devices/:id", h_device_delete, H_AUTH_USER},
  {"POST", "/api/v1/users/me/webhook-endpoints", h_me_webhook_endpoints_post, H_AUTH_USER},
  {"GET", "/api/v1/users/me/webhook-endpoints", h_me_webhook_endpoints_get, H_AUTH_USER},
  {"DELETE", "/api/v1/users/me/webhook-endpoints/:id", h_me_webhook_endpoint_delete,
   H_AUTH_USER},
  {"POST", "/api/v1/users/me/webhook-endpoints/:id/rotate-secret",
   h_me_webhook_endpoint_rotate_post, H_AUTH_USER},
  {"POST", "/api/v1/users/me/webhook-endpoints/:id/enable", h_me_webhook_endpoint_enable_post,
   H_AUTH_USER},
  {"POST", "/api/v1/admin/webhook-endpoints", h_admin_webhook_endpoints_post, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/webhook-endpoints", h_admin_webhook_endpoints_get, H_AUTH_ADMIN},
  {"DELETE", "/api/v1/admin/webhook-endpoints/:id", h_admin_webhook_endpoint_delete,
   H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/webhook-endpoints/:id/rotate-secret",
   h_admin_webhook_endpoint_rotate_post, H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/webhook-endpoints/:id/enable", h_admin_webhook_endpoint_enable_post,
   H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/templates", h_templates_get, H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/templates", h_templates_post, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/templates/:key", h_template_get, H_AUTH_ADMIN},
  {"PUT", "/api/v1/admin/templates/:key", h_template_put, H_AUTH_ADMIN},
  {"DELETE", "/api/v1/admin/templates/:key", h_template_delete, H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/templates/:key/preview", h_template_preview_post, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/queues", h_admin_queues_get, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/deliveries", h_admin_deliveries_get, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/deliveries/stats", h_admin_delivery_stats_get, H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/deliveries/:id/retry", h_admin_delivery_retry_post, H_AUTH_ADMIN},
  /* payments (api/payments/payments.h) */
  {"POST", "/api/v1/payments", h_payments_post, H_AUTH_USER, H_WAITS},
  {"GET", "/api/v1/payments", h_payments_get, H_AUTH_USER},
  {"GET", "/api/v1/payments/config", h_payments_config_get, H_AUTH_USER},
  {"GET", "/api/v1/payments/:id", h_payment_get, H_AUTH_USER},
  {"POST", "/api/v1/payments/:id/confirm", h_payment_confirm_post, H_AUTH_USER, H_WAITS},
  {"POST", "/api/v1/payments/:id/cancel", h_payment_cancel_post, H_AUTH_USER, H_WAITS},
  {"GET", "/api/v1/payments/:id/receipt", h_payment_receipt_get, H_AUTH_USER},
  {"POST", "/api/v1/payments/:id/refunds", h_refunds_post, H_AUTH_ADMIN, H_WAITS},
  {"GET", "/api/v1/payments/:id/refunds", h_refunds_get, H_AUTH_USER},
  {"POST", "/api/v1/payments/:id/refund-requests", h_refund_requests_post, H_AUTH_USER},
  {"GET", "/api/v1/admin/refund-requests", h_admin_refund_requests_get, H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/refund-requests/:id/approve", h_admin_refund_request_approve_post,
   H_AUTH_ADMIN, H_WAITS},
  {"POST", "/api/v1/admin/refund-requests/:id/reject", h_admin_refund_request_reject_post,
   H_AUTH_ADMIN},
  {"GET", "/api/v1/payment-methods", h_payment_methods_get, H_AUTH_USER},
  {"POST", "/api/v1/payment-methods", h_payment_methods_post, H_AUTH_USER, H_WAITS},
  {"DELETE", "/api/v1/payment-methods/:id", h_payment_method_delete, H_AUTH_USER, H_WAITS},
  {"POST", "/api/v1/payment-methods/:id/default", h_payment_method_default_post,
   H_AUTH_USER, H_WAITS},
  {"POST", "/api/v1/webhooks/stripe", h_webhook_stripe_post, H_AUTH_NONE, H_WAITS},
  {"POST", "/api/v1/webhooks/mpesa/:secret", h_webhook_mpesa_post, H_AUTH_NONE, H_WAITS},
  /* plans and subscriptions (api/billing/billing.h) */
  {"GET", "/api/v1/plans", h_plans_get, H_AUTH_USER},
  {"POST", "/api/v1/admin/plans", h_admin_plans_post, H_AUTH_ADMIN, H_WAITS},
  {"GET", "/api/v1/admin/plans", h_admin_plans_get, H_AUTH_ADMIN},
  {"PATCH", "/api/v1/admin/plans/:id", h_admin_plan_patch, H_AUTH_ADMIN, H_WAITS},
  {"POST", "/api/v1/subscriptions", h_subscriptions_post, H_AUTH_USER, H_WAITS},
  {"GET", "/api/v1/subscriptions", h_subscriptions_get, H_AUTH_USER},
  {"GET", "/api/v1/subscriptions/:id", h_subscription_get, H_AUTH_USER},
  {"POST", "/api/v1/subscriptions/:id/cancel", h_subscription_cancel_post, H_AUTH_USER, H_WAITS},
  {"POST", "/api/v1/subscriptions/:id/resume", h_subscription_resume_post, H_AUTH_USER, H_WAITS},
  {"POST", "/api/v1/subscriptions/:id/plan", h_subscription_plan_post, H_AUTH_USER, H_WAITS},
  {"POST", "/api/v1/admin/subscriptions/:id/sync", h_admin_subscription_sync_post,
   H_AUTH_ADMIN, H_WAITS},
  /* reconcile (api/admin/reconciliations.h) */
  {"POST", "/api/v1/admin/reconciliations", h_reconciliations_post, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/reconciliations", h_reconciliations_get, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/reconciliations/:id", h_reconciliation_get, H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/payments/:id/sync", h_payment_sync_post, H_AUTH_ADMIN},
  {"GET", "/api/v1/admin/payments/summary", h_admin_payment_summary_get, H_AUTH_ADMIN},
  /* disputes (api/admin/disputes.h) */
  {"GET", "/api/v1/admin/disputes", h_disputes_get, H_AUTH_ADMIN},
  {"POST", "/api/v1/admin/disputes/:id/evidence", h_dispute_evidence_post, H_AUTH_ADMIN, H_WAITS},

  {"POST", "/api/v1/webhooks/sms/status", h_webhook_sms_status_post, H_AUTH_NONE},
  {"POST", "/api/v1/webhooks/sms/inbound", h_webhook_sms_inbound_post, H_AUTH_NONE},
  {"POST", "/api/v1/webhooks/sms/vonage/status", h_webhook_vonage_status_post, H_AUTH_NONE},
  {"POST", "/api/v1/webhooks/sms/vonage/inbound", h_webhook_vonage_inbound_post, H_AUTH_NONE},
  {"POST", "/api/v1/webhooks/email/sendgrid", h_webhook_sendgrid_post, H_AUTH_NONE},
  {"POST", "/api/v1/webhooks/email/mailgun", h_webhook_mailgun_post, H_AUTH_NONE},
  {NULL, NULL, NULL, H_AUTH_NONE},
};
#pragma GCC diagnostic pop

const struct h_route *h_routes(void) { return routes; }

/* Length of the segment starting at s (up to '/' or end). */
static size_t seglen(const char *s) { return strcspn(s, "/"); }

/* A path or pattern cut at its slashes, empty segments left out (so "//a/b/" is a, b). No
 * route has more than a few segments; a path with more than SEGS_MAX matches none. */
enum { SEGS_MAX = 12 };
struct segs {
  int n;
  const char *s[SEGS_MAX];
  unsigned short len[SEGS_MAX];
};

/* Cuts path into out; false when it has more than SEGS_MAX segments (or one longer than
 * 65,535 bytes, which no route has either). */
static bool cut(const char *path, struct segs *out) {
  out->n = 0;
  for (const char *p = path;;) {
    while (*p == '/') {
      p++;
    }
    if (*p == '\0') {
      return true;
    }
    size_t n = seglen(p);
    if (out->n == SEGS_MAX || n > 65535) {
      return false;
    }
    out->s[out->n] = p;
    out->len[out->n++] = (unsigned short)n;
    p += n;
  }
}

/* How many literal segments pattern has when it matches path, both cut (":name" takes any
 * one segment); -1 when it does not match. */
static int specificity(const struct segs *pattern, const struct segs *path) {
  if (pattern->n != path->n) {
    return -1;
  }
  int literal = 0;
  for (int i = 0; i < pattern->n; i++) {
    if (pattern->s[i][0] == ':') {
      continue;
    }
    if (pattern->len[i] != path->len[i] ||
        memcmp(pattern->s[i], path->s[i], pattern->len[i]) != 0) {
      return -1;
    }
    literal++;
  }
  return literal;
}

/* The table's patterns, cut once (a request cuts only its path, and most patterns are
 * dismissed by their number of segments: matching segment by segment against all ~140
 * patterns cost about 5 % of a POST's CPU in the API). */
static struct segs route_segs[sizeof(routes) / sizeof(routes[0])];
static pthread_once_t route_segs_once = PTHREAD_ONCE_INIT;

static void cut_routes(void) {
  for (size_t i = 0; routes[i].method != NULL; i++) {
    if (!cut(routes[i].path, &route_segs[i])) {
      route_segs[i].n = -1; /* matches nothing (test_table_is_well_formed rules it out) */
    }
  }
}

/* The cut patterns, route_segs[i] for routes[i] (cut on first use). */
static const struct segs *table_segs(void) {
  pthread_once(&route_segs_once, cut_routes);
  return route_segs;
}

bool h_route_path_match(const char *pattern, const char *path) {
  return h_route_specificity(pattern, path) >= 0;
}

/* Literal segments beat ":name" ones, so /notifications/unread-count is
 * never taken for /notifications/:id. */
int h_route_specificity(const char *pattern, const char *path) {
  struct segs a, b;
  return cut(pattern, &a) && cut(path, &b) ? specificity(&a, &b) : -1;
}

/* The most specific match of the path cut into p, over every route (-1: none). */
static int best_specificity(const struct segs *segs, const struct segs *p) {
  int best = -1;
  for (const struct h_route *r = routes; r->method != NULL; r++) {
    int s = specificity(&segs[r - routes], p);
    best = s > best ? s : best;
  }
  return best;
}

/* Routes whose handler parses a non-JSON body itself (form-encoded provider callbacks). */
static const struct {
  const char *method, *path;
} raw_body_routes[] = {
  {"POST", "/api/v1/webhooks/sms/status"},
  {"POST", "/api/v1/webhooks/sms/inbound"},
  {"POST", "/api/v1/webhooks/sms/vonage/status"},
  {"POST", "/api/v1/webhooks/sms/vonage/inbound"},
  {"POST", "/api/v1/unsubscribe"}, /* RFC 8058: a form body, not JSON */
};

bool h_route_raw_body(const char *method, const char *path) {
  for (size_t i = 0; i < sizeof(raw_body_routes) / sizeof(raw_body_routes[0]); i++) {
    if (strcmp(raw_body_routes[i].method, method) == 0 &&
        h_route_path_match(raw_body_routes[i].path, path)) {
      return true;
    }
  }
  return false;
}

int h_route_allowed_methods(const char *path, char *allow, size_t allowlen) {
  allow[0] = '\0';
  struct segs p;
  if (!cut(path, &p)) {
    return 0;
  }
  const struct segs *segs = table_segs();
  int n = 0, best = best_specificity(segs, &p); /* Only the most specific routes */
  for (const struct h_route *r = routes; r->method != NULL; r++) {
    if (best >= 0 && specificity(&segs[r - routes], &p) == best &&
        strstr(allow, r->method) == NULL) {
      size_t used = strlen(allow);
      snprintf(allow + used, allowlen - used, "%s%s", n > 0 ? ", " : "", r->method);
      n++;
    }
  }
  return n;
}

static bool probe_route(const struct h_route *r) {
  return r->handler == h_health_get || r->handler == h_ready_get || r->handler == h_metrics_get;
}

const struct h_route *h_route_find(const char *method, const char *path, bool probes_only) {
  struct segs p;
  if (!cut(path, &p)) {
    return NULL;
  }
  const struct segs *segs = table_segs();
  const struct h_route *found = NULL;
  int best = -1;
  for (const struct h_route *r = routes; r->method != NULL; r++) {
    if (probes_only && !probe_route(r)) {
      continue;
    }
    int s = specificity(&segs[r - routes], &p);
    if (s < 0) {
      continue;
    }
    bool same_method = strcmp(r->method, method) == 0;
    if (s > best) { /* a more specific pattern takes the path, whatever its method */
      best = s;
      found = same_method ? r : NULL;
    } else if (s == best && found == NULL && same_method) {
      found = r;
    }
  }
  return found;
}

void h_route_bind(const struct h_route *route, const char *path, struct _u_map *map) {
  const struct segs *pattern = &table_segs()[route - routes];
  struct segs p;
  if (!cut(path, &p) || specificity(pattern, &p) < 0) {
    return;
  }
  for (int i = 0; i < pattern->n; i++) {
    if (pattern->s[i][0] == ':') {
      char *name = h_strndup(pattern->s[i] + 1, pattern->len[i] - 1u);
      char *value = h_strndup(p.s[i], p.len[i]);
      u_map_put(map, name, value);
      free(name);
      free(value);
    }
  }
}

/* One ulfius endpoint for everything: ulfius matching a table of ~70 patterns on every
 * request (splitting the URL once per pattern) cost more than the rest of a GET; our
 * table is searched without allocating (h_route_find). */
static int register_dispatch(struct _u_instance *instance, struct h_app *app, bool probes_only) {
  return ulfius_add_endpoint_by_val(instance, "*", NULL, "*", 0,
                                    probes_only ? h_mw_dispatch_probes : h_mw_dispatch, app);
}

int h_routes_register(struct _u_instance *instance, struct h_app *app) {
  return register_dispatch(instance, app, false);
}

int h_routes_register_probes(struct _u_instance *instance, struct h_app *app) {
  return register_dispatch(instance, app, true);
}
