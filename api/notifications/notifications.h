/* notifications.h - the handlers of the notifications area (registered in routes.c):
 * sending, the feed, bulk sends and announcements, preferences, devices, templates and
 * the operators' view of queues and deliveries. */
#ifndef HERALD_NOTIFICATIONS_H
#define HERALD_NOTIFICATIONS_H

#include "http/http.h"
#include "notifications/notify.h"

/* Replies for a failed notification operation: 422 with err (may be NULL otherwise),
 * 404, or the status of r. */
void h_reply_notify_failure(struct h_req *rq, h_result r, const struct h_notify_error *err);

/* api/notifications/notifications.c */
void h_notifications_post(struct h_req *rq);
void h_notifications_get(struct h_req *rq);
void h_notifications_unread_count_get(struct h_req *rq);
void h_notifications_read_all_post(struct h_req *rq);
void h_notifications_clear_post(struct h_req *rq);
void h_notification_get(struct h_req *rq);
void h_notification_archive_post(struct h_req *rq);
void h_notification_unarchive_post(struct h_req *rq);
void h_notification_read_post(struct h_req *rq);
void h_notification_unread_post(struct h_req *rq);
void h_notification_delete(struct h_req *rq);
/* api/notifications/announcements.c */
struct h_broadcast_input;
/* Reads an announcement's locales and topics (borrowed from body) into in. */
void h_announcement_audience(const json_t *body, struct h_broadcast_input *in,
                             struct h_field_errors *fe);
void h_announcement_patch(struct h_req *rq);
void h_announcement_withdraw_post(struct h_req *rq);
/* api/notifications/topics.c */
void h_topics_get(struct h_req *rq);
void h_topics_post(struct h_req *rq);
void h_my_topics_get(struct h_req *rq);
void h_my_topic_put(struct h_req *rq);
void h_my_topic_delete(struct h_req *rq);
/* api/notifications/stream.c */
void h_notifications_stream_get(struct h_req *rq);
void h_notifications_stream_tickets_post(struct h_req *rq);
/* api/notifications/broadcasts.c */
void h_notifications_bulk_post(struct h_req *rq);
void h_notification_batch_get(struct h_req *rq);
void h_announcements_post(struct h_req *rq);
void h_announcements_get(struct h_req *rq);
void h_announcement_get(struct h_req *rq);
/* api/notifications/preferences.c */
void h_preferences_get(struct h_req *rq);
void h_preferences_put(struct h_req *rq);
/* api/notifications/devices.c */
void h_devices_post(struct h_req *rq);
void h_devices_get(struct h_req *rq);
void h_device_delete(struct h_req *rq);
/* api/notifications/templates.c */
void h_templates_get(struct h_req *rq);
void h_templates_post(struct h_req *rq);
void h_template_get(struct h_req *rq);
void h_template_put(struct h_req *rq);
void h_template_delete(struct h_req *rq);
void h_template_preview_post(struct h_req *rq);
/* api/admin/deliveries.c */
void h_admin_queues_get(struct h_req *rq);
void h_admin_deliveries_get(struct h_req *rq);
void h_admin_delivery_stats_get(struct h_req *rq);
void h_admin_delivery_retry_post(struct h_req *rq);

#endif
