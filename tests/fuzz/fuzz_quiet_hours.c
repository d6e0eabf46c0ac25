/* fuzz_quiet_hours.c - quiet hours (notifications/quiet_hours.c). Input lines: the window's
 * start and end ("HH:MM", from a user's preferences) and a local time ("YYYY-MM-DD HH:MM"). */
#include <ctype.h>

#include "fuzz_input.h"
#include "notifications/quiet_hours.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *p[3];
  fuzz_split(data, size, p, 3);
  int start = 0, end = 0;
  struct h_local_time t, until;
  bool ok_start = h_quiet_parse_hhmm(p[0], &start);
  bool ok_end = h_quiet_parse_hhmm(p[1], &end);
  if ((ok_start && (start < 0 || start > 1439)) || (ok_end && (end < 0 || end > 1439))) {
    abort();
  }
  if (h_quiet_parse_local(p[2], &t)) {
    char text[32];
    h_quiet_format_local(&t, text, sizeof(text));
    /* What was accepted is "YYYY-MM-DD HH:MM" itself, optionally with ":SS" (00-59). */
    size_t n = strlen(p[2]);
    if (strncmp(text, p[2], 16) != 0 ||
        (n == 19 && (p[2][16] != ':' || !isdigit((unsigned char)p[2][17]) ||
                     !isdigit((unsigned char)p[2][18]) || p[2][17] > '5'))) {
      abort();
    }
    if (ok_start && ok_end) {
      (void)h_quiet_contains(start, end, t.minute);
      if (h_quiet_until(start, end, &t, &until)) {
        h_quiet_format_local(&until, text, sizeof(text));
      }
    }
  }
  fuzz_free_parts(p, 3);
  return 0;
}
