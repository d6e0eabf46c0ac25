/* quiet_hours.h - the calendar side of quiet hours, as pure code.
 *
 * A window is [start, end) in minutes since local midnight; start > end crosses
 * midnight ("22:00"-"07:00"). Times here are local wall-clock times in the user's
 * zone; converting instants to and from that zone (DST included) is left to the
 * caller, which asks PostgreSQL (`AT TIME ZONE`, the system tz database). */
#ifndef HERALD_QUIET_HOURS_H
#define HERALD_QUIET_HOURS_H

#include <stdbool.h>
#include <stddef.h>

struct h_local_time {
  int year, month, day; /* calendar date */
  int minute;           /* minutes since midnight, 0..1439 */
};

/* "HH:MM" (00:00-23:59, two digits each) into minutes since midnight. */
bool h_quiet_parse_hhmm(const char *s, int *minutes);

/* "YYYY-MM-DD HH:MM" optionally followed by ":SS" (seconds are dropped). */
bool h_quiet_parse_local(const char *s, struct h_local_time *out);

/* "YYYY-MM-DD HH:MM:00" into out (at least 20 bytes). */
void h_quiet_format_local(const struct h_local_time *t, char *out, size_t outlen);

/* True when minute lies inside [start, end) (crossing midnight when start > end). */
bool h_quiet_contains(int start, int end, int minute);

/* When t lies inside the window, writes the local time the window ends (today or the
 * next day) into *until and returns true; false otherwise. */
bool h_quiet_until(int start, int end, const struct h_local_time *t, struct h_local_time *until);

#endif
