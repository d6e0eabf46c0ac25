/* quiet_hours.c - quiet-hours windows on local wall-clock times. */
#include "notifications/quiet_hours.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Two decimal digits at s into *v. */
static bool two_digits(const char *s, int *v) {
  if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1])) {
    return false;
  }
  *v = (s[0] - '0') * 10 + (s[1] - '0');
  return true;
}

bool h_quiet_parse_hhmm(const char *s, int *minutes) {
  int h, m;
  if (s == NULL || strlen(s) != 5 || s[2] != ':' || !two_digits(s, &h) ||
      !two_digits(s + 3, &m) || h > 23 || m > 59) {
    return false;
  }
  *minutes = h * 60 + m;
  return true;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int y, int m) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

bool h_quiet_parse_local(const char *s, struct h_local_time *out) {
  int y = 0, mo, d, h, mi, sec;
  size_t n = s != NULL ? strlen(s) : 0;
  if ((n != 16 && n != 19) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':') {
    return false;
  }
  if (n == 19 && (s[16] != ':' || !two_digits(s + 17, &sec) || sec > 59)) {
    return false;
  }
  for (int i = 0; i < 4; i++) {
    if (!isdigit((unsigned char)s[i])) {
      return false;
    }
    y = y * 10 + (s[i] - '0');
  }
  if (!two_digits(s + 5, &mo) || !two_digits(s + 8, &d) || !two_digits(s + 11, &h) ||
      !two_digits(s + 14, &mi) || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) ||
      h > 23 || mi > 59) {
    return false;
  }
  out->year = y;
  out->month = mo;
  out->day = d;
  out->minute = h * 60 + mi;
  return true;
}

void h_quiet_format_local(const struct h_local_time *t, char *out, size_t outlen) {
  snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:00", t->year, t->month, t->day,
           t->minute / 60, t->minute % 60);
}

bool h_quiet_contains(int start, int end, int minute) {
  if (start == end) {
    return false;
  }
  return start < end ? minute >= start && minute < end : minute >= start || minute < end;
}

/* The calendar day after t (time of day unchanged). */
static struct h_local_time next_day(struct h_local_time t) {
  if (++t.day > month_days(t.year, t.month)) {
    t.day = 1;
    if (++t.month > 12) {
      t.month = 1;
      t.year++;
    }
  }
  return t;
}

bool h_quiet_until(int start, int end, const struct h_local_time *t, struct h_local_time *until) {
  if (!h_quiet_contains(start, end, t->minute)) {
    return false;
  }
  /* Crossing midnight and still before it: the window ends tomorrow. */
  *until = start > end && t->minute >= start ? next_day(*t) : *t;
  until->minute = end;
  return true;
}
