/* delivery_plan.c - channel selection and initial delivery states. */
#include "notifications/delivery_plan.h"

#include <string.h>

static const char *names[H_CHANNEL_COUNT] = {"in_app", "email", "sms", "push"};

const char *h_channel_name(enum h_channel c) {
  return (int)c >= 0 && c < H_CHANNEL_COUNT ? names[c] : "unknown";
}

int h_channel_parse(const char *name) {
  for (int i = 0; name != NULL && i < H_CHANNEL_COUNT; i++) {
    if (strcmp(name, names[i]) == 0) {
      return i;
    }
  }
  return -1;
}

bool h_prefs_allow(const json_t *prefs, const char *category, enum h_channel c) {
  const char *name = h_channel_name(c);
  json_t *cat = json_object_get(json_object_get(prefs, "categories"), category);
  json_t *v = json_object_get(cat, name);
  if (json_is_boolean(v)) {
    return json_is_true(v);
  }
  v = json_object_get(json_object_get(prefs, "channels"), name);
  return json_is_boolean(v) ? json_is_true(v) : true;
}

/* Why c cannot reach the recipient, or NULL when it can. */
static const char *skip_reason(enum h_channel c, const char *category,
                               const struct h_recipient *rcpt) {
  if (!h_prefs_allow(rcpt->prefs, category, c)) {
    return "channel_disabled";
  }
  if (c == H_CHANNEL_SMS && !rcpt->has_phone) {
    return "no_phone";
  }
  if (c == H_CHANNEL_PUSH && rcpt->active_devices <= 0) {
    return "no_device";
  }
  return NULL;
}

/* A security alert the preferences would silence entirely: in-app and e-mail go anyway. */
static void keep_security_floor(const char *category, struct h_planned_delivery *out, int n) {
  if (category == NULL || strcmp(category, H_CATEGORY_SECURITY) != 0) {
    return;
  }
  for (int i = 0; i < n; i++) {
    if (out[i].reason == NULL || strcmp(out[i].reason, "channel_disabled") != 0) {
      return; /* something reaches the user, or fails for another reason */
    }
  }
  for (int i = 0; i < n; i++) {
    if (out[i].channel == H_CHANNEL_IN_APP || out[i].channel == H_CHANNEL_EMAIL) {
      out[i].reason = NULL;
      out[i].status = out[i].channel == H_CHANNEL_IN_APP ? "sent" : "queued";
    }
  }
}

int h_plan_deliveries(unsigned mask, bool scheduled, bool critical, const char *category,
                      const struct h_recipient *rcpt, struct h_planned_delivery *out) {
  int n = 0;
  for (int c = 0; c < H_CHANNEL_COUNT; c++) {
    if ((mask & H_CHANNEL_BIT(c)) == 0) {
      continue;
    }
    struct h_planned_delivery *d = &out[n++];
    d->channel = (enum h_channel)c;
    d->reason = skip_reason(d->channel, category, rcpt);
    d->quiet_candidate = false;
    if (d->reason != NULL) {
      d->status = "skipped";
    } else if (scheduled) {
      d->status = "scheduled";
    } else {
      d->status = c == H_CHANNEL_IN_APP ? "sent" : "queued";
    }
    d->quiet_candidate = d->reason == NULL && !critical && c != H_CHANNEL_IN_APP;
  }
  if (!scheduled) {
    keep_security_floor(category, out, n);
  }
  return n;
}
