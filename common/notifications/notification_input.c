/* notification_input.c - the send fields and their checks. */
#include "notifications/notification_input.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "channels/push_options.h"
#include "notifications/delivery_plan.h"
#include "templates/template.h"
#include "core/fields.h"
#include "core/page.h"

#define YEAR_S (366L * 24 * 3600)

bool h_rfc3339_parse(const char *s, time_t *out) {
  if (!h_valid_timestamp(s)) {
    return false;
  }
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == NULL) {
    return false;
  }
  if (*rest == '.') {
    rest++;
    while (isdigit((unsigned char)*rest)) {
      rest++;
    }
  }
  long offset = 0;
  if (*rest == '+' || *rest == '-') {
    int h = (rest[1] - '0') * 10 + (rest[2] - '0'), m = (rest[4] - '0') * 10 + (rest[5] - '0');
    if (h > 23 || m > 59) {
      return false;
    }
    offset = (*rest == '-' ? -1 : 1) * (h * 3600L + m * 60L);
  }
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return false;
  }
  *out = timegm(&tm) - offset;
  return true;
}

bool h_category_valid(const char *s) {
  size_t n = s != NULL ? strlen(s) : 0;
  if (n == 0 || n > 64) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!isalnum(c) && c != '_' && c != '.' && c != ':' && c != '-') {
      return false;
    }
  }
  return true;
}

bool h_priority_valid(const char *s) {
  return s != NULL && (strcmp(s, "low") == 0 || strcmp(s, "normal") == 0 ||
                       strcmp(s, "high") == 0 || strcmp(s, "critical") == 0);
}

/* channels: a non-empty array of distinct channel names, into a bit mask. */
static unsigned parse_channels(const json_t *v, struct h_field_errors *fe) {
  if (v == NULL) {
    return 0;
  }
  if (!json_is_array(v) || json_array_size(v) == 0) {
    h_field_error(fe, "channels", "invalid_type",
                  "Must be a non-empty array of in_app, email, sms, push, webhook.");
    return 0;
  }
  unsigned mask = 0;
  size_t i;
  json_t *item;
  json_array_foreach((json_t *)v, i, item) {
    int c = h_channel_parse(json_string_value(item));
    if (c < 0) {
      h_field_error(fe, "channels", "unknown_channel",
                    "channels[%zu] must be one of in_app, email, sms, push, webhook.", i);
    } else if (mask & H_CHANNEL_BIT(c)) {
      h_field_error(fe, "channels", "duplicate_channel", "channels[%zu] is listed twice.", i);
    } else {
      mask |= H_CHANNEL_BIT(c);
    }
  }
  return mask;
}

static bool url_valid(const char *s) {
  if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0) {
    return false;
  }
  for (const char *p = s; *p != '\0'; p++) {
    if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f) {
      return false;
    }
  }
  return strlen(s) > 8;
}

static void parse_send_at(const json_t *body, time_t now, struct h_notify_request *req,
                          struct h_field_errors *fe) {
  req->send_at = h_field_string(body, "send_at", false, 64, fe);
  time_t at;
  if (req->send_at == NULL) {
    return;
  }
  if (!h_rfc3339_parse(req->send_at, &at)) {
    h_field_error(fe, "send_at", "invalid_timestamp",
                  "Must be an RFC 3339 timestamp such as 2027-01-31T09:00:00Z.");
  } else if (at <= now) {
    h_field_error(fe, "send_at", "send_at_in_past", "Must be in the future.");
  } else if (at - now > YEAR_S) {
    h_field_error(fe, "send_at", "send_at_too_far", "Must be at most a year ahead.");
  }
}

/* template, or title/body: one of the two ways to give the content. */
static void parse_content(const json_t *body, struct h_notify_request *req,
                          struct h_field_errors *fe) {
  req->template_key = h_field_string(body, "template", false, 64, fe);
  if (req->template_key != NULL && !h_template_key_valid(req->template_key)) {
    h_field_error(fe, "template", "invalid_template_key",
                  "Must be a template key (a-z 0-9 _ . -).");
  }
  req->title = h_field_string(body, "title", false, 200, fe);
  req->body = h_field_string(body, "body", false, 10000, fe);
  json_t *data = json_object_get(body, "data");
  if (data != NULL && !json_is_object(data)) {
    h_field_error(fe, "data", "invalid_type", "Must be an object.");
  }
  req->data = json_is_object(data) ? data : NULL;
  if (req->template_key != NULL) {
    if (req->title != NULL || req->body != NULL) {
      h_field_error(fe, req->title != NULL ? "title" : "body", "not_allowed_with_template",
                    "Give either a template or a title and body, not both.");
    }
  } else if (req->body == NULL && json_object_get(body, "body") == NULL &&
             json_object_get(body, "template") == NULL) {
    h_field_error(fe, "body", "missing_field", "Give a body (or a template).");
  }
  if (req->body != NULL && req->body[0] == '\0') {
    h_field_error(fe, "body", "too_short", "Must not be empty.");
  }
}

void h_notify_parse_common(const json_t *body, const char *default_category, time_t now,
                           struct h_notify_request *req, struct h_field_errors *fe) {
  req->category = h_field_string(body, "category", default_category == NULL, 64, fe);
  if (req->category != NULL && !h_category_valid(req->category)) {
    h_field_error(fe, "category", "invalid_category", "Must be 1-64 of A-Z a-z 0-9 _ . : -.");
  } else if (req->category != NULL && strcmp(req->category, H_CATEGORY_SECURITY) == 0) {
    h_field_error(fe, "category", "reserved_category",
                  "security is Herald's own category (its security alerts).");
  }
  if (req->category == NULL) {
    req->category = default_category;
  }
  req->priority = h_field_string(body, "priority", false, 16, fe);
  if (req->priority != NULL && !h_priority_valid(req->priority)) {
    h_field_error(fe, "priority", "invalid_priority", "Must be low, normal, high or critical.");
  }
  if (req->priority == NULL) {
    req->priority = "normal";
  }
  req->channels = parse_channels(json_object_get(body, "channels"), fe);
  parse_content(body, req, fe);
  req->action_url = h_field_string(body, "action_url", false, 2048, fe);
  if (req->action_url != NULL && !url_valid(req->action_url)) {
    h_field_error(fe, "action_url", "invalid_url", "Must be an http(s) URL.");
  }
  parse_send_at(body, now, req, fe);
  bool may_push = req->channels == 0 || (req->channels & H_CHANNEL_BIT(H_CHANNEL_PUSH));
  req->push = h_push_options_parse(body, req->data, may_push, fe);
}
