/* delivery_plan.h - which channels a notification goes to, and in which state each
 * delivery starts. Pure code: the recipient's facts are loaded by the caller.
 *
 * Preferences are {"channels":{"email":bool,...}, "categories":{"<cat>":{"sms":bool}}}:
 * a category's setting for a channel overrides the global one; anything unset is on. */
#ifndef HERALD_DELIVERY_PLAN_H
#define HERALD_DELIVERY_PLAN_H

#include <jansson.h>
#include <stdbool.h>

enum h_channel { H_CHANNEL_IN_APP, H_CHANNEL_EMAIL, H_CHANNEL_SMS, H_CHANNEL_PUSH,
                 H_CHANNEL_COUNT };

#define H_CHANNEL_BIT(c) (1u << (c))
#define H_CHANNELS_ALL ((1u << H_CHANNEL_COUNT) - 1u)

/* "in_app", "email", "sms", "push". Static. */
const char *h_channel_name(enum h_channel c);

/* The channel of a name, or -1. */
int h_channel_parse(const char *name);

/* True when prefs (borrowed, may be NULL: defaults) let channel c carry category. */
bool h_prefs_allow(const json_t *prefs, const char *category, enum h_channel c);

struct h_recipient {
  bool has_phone;
  int active_devices;
  const json_t *prefs; /* borrowed, may be NULL */
};

struct h_planned_delivery {
  enum h_channel channel;
  const char *status;   /* static: "queued", "scheduled", "sent" or "skipped" */
  const char *reason;   /* static or NULL: "channel_disabled", "no_phone", "no_device" */
  bool quiet_candidate; /* may still be delayed by quiet hours */
};

/* The category of Herald's security alerts (alerts/security_alert.h): reserved to Herald,
 * and never turned off entirely by preferences. */
#define H_CATEGORY_SECURITY "security"

/* One planned delivery per channel of mask (H_CHANNELS_ALL when the caller gave none),
 * in channel order; returns how many. scheduled: send_at lies in the future.
 * critical priority is never a quiet-hours candidate, nor is in-app. A security alert whose
 * every channel the preferences turn off keeps its in-app and e-mail deliveries. */
int h_plan_deliveries(unsigned mask, bool scheduled, bool critical, const char *category,
                      const struct h_recipient *rcpt, struct h_planned_delivery *out);

#endif
