/* flood.h - the rules that protect users from floods, read from the configuration:
 *   HERALD_DIGEST_WINDOWS           category=seconds,...: e-mail and push of these categories
 *                                   wait and go out as one digest per window
 *   HERALD_FLOOD_EXEMPT_CATEGORIES  categories that never wait, are never throttled or capped
 *                                   (critical priority is always exempt)
 *   HERALD_THROTTLE_PER_HOUR        channel=N,...: at most N deliveries per user and hour
 *   HERALD_DAILY_CAPS               channel=N,...: at most N deliveries per channel and UTC day
 * Used by the API (digests, when a notification is planned) and by the worker runtime
 * (throttles and caps, before the provider is called). Pure code. */
#ifndef HERALD_FLOOD_H
#define HERALD_FLOOD_H

#include <jansson.h>
#include <stdbool.h>

#include "core/config.h"
#include "core/result.h"

struct h_flood_rules {
  json_t *windows;   /* {"<category>": seconds}, owned */
  json_t *exempt;    /* {"<category>": true}, owned */
  json_t *throttle;  /* {"<channel>": per hour}, owned */
  json_t *caps;      /* {"<channel>": per day}, owned */
};

/* Parses the four variables of cfg. H_ERR_INVALID with *error (caller frees) naming the
 * variable. Free out with h_flood_free (also after a failure). */
h_result h_flood_parse(const struct h_config *cfg, struct h_flood_rules *out, char **error);
void h_flood_free(struct h_flood_rules *rules);

/* True when category at priority is never delayed, throttled or capped. */
bool h_flood_exempt(const struct h_flood_rules *rules, const char *category,
                    const char *priority);

/* The digest window of category at priority in seconds; 0: none (no window configured,
 * exempt, or rules NULL). */
int h_flood_digest_window(const struct h_flood_rules *rules, const char *category,
                          const char *priority);

/* The hourly throttle and the daily cap of channel; 0: none. */
int h_flood_throttle(const struct h_flood_rules *rules, const char *channel);
int h_flood_cap(const struct h_flood_rules *rules, const char *channel);

#endif
