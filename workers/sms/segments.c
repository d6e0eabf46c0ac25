/* segments.c - GSM-7 / UCS-2 segment counting. */
#include "segments.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The GSM 03.38 basic table beyond printable ASCII (as code points). */
static const uint32_t gsm_basic_extra[] = {
  0xA3, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0xD8, 0xF8, 0xC5, 0xE5, 0x394, 0x3A6,
  0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF, 0xC9, 0xA4,
  0xA1, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7, 0xBF, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0};
/* The extension table: two septets each. */
static const uint32_t gsm_extension[] = {0x0C, '^', '{', '}', '\\', '[', '~', ']', '|', 0x20AC};

static bool in(const uint32_t *set, size_t n, uint32_t c) {
  for (size_t i = 0; i < n; i++) {
    if (set[i] == c) {
      return true;
    }
  }
  return false;
}

/* Septets of c in GSM-7, 0 when it has none. */
static int gsm_septets(uint32_t c) {
  if (in(gsm_extension, sizeof(gsm_extension) / sizeof(gsm_extension[0]), c)) {
    return 2;
  }
  if ((c >= 0x20 && c <= 0x7E && c != '`') || c == '\n' || c == '\r') {
    return 1;
  }
  return in(gsm_basic_extra, sizeof(gsm_basic_extra) / sizeof(gsm_basic_extra[0]), c) ? 1 : 0;
}

/* Decodes one UTF-8 character at *p (advancing it); invalid bytes give U+FFFD. */
static uint32_t next_char(const unsigned char **p) {
  const unsigned char *s = *p;
  int len = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 0;
  if (len == 0) {
    *p += 1;
    return 0xFFFD;
  }
  uint32_t c = len == 1 ? s[0] : (uint32_t)(s[0] & (0x7F >> len));
  for (int i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) {
      *p += i;
      return 0xFFFD;
    }
    c = (c << 6) | (s[i] & 0x3F);
  }
  *p += len;
  return c;
}

/* Packs units of sizes[] into segments of cap, never splitting one character. */
static int pack(const int *sizes, size_t n, int cap) {
  int segments = 1, used = 0;
  for (size_t i = 0; i < n; i++) {
    if (used + sizes[i] > cap) {
      segments++;
      used = 0;
    }
    used += sizes[i];
  }
  return segments;
}

void h_sms_count(const char *utf8, struct h_sms_segments *out) {
  enum { MAX_CHARS = 4096 };
  static _Thread_local int gsm[MAX_CHARS], ucs[MAX_CHARS];
  size_t n = 0;
  int septets = 0, units = 0;
  bool gsm_ok = true;
  const unsigned char *p = (const unsigned char *)(utf8 != NULL ? utf8 : "");
  while (*p != '\0' && n < MAX_CHARS) {
    uint32_t c = next_char(&p);
    int s = gsm_septets(c);
    gsm_ok = gsm_ok && s > 0;
    gsm[n] = s;
    ucs[n] = c > 0xFFFF ? 2 : 1;
    septets += s;
    units += ucs[n];
    n++;
  }
  out->ucs2 = !gsm_ok;
  out->units = gsm_ok ? septets : units;
  if (gsm_ok) {
    out->segments = septets <= 160 ? 1 : pack(gsm, n, 153);
  } else {
    out->segments = units <= 70 ? 1 : pack(ucs, n, 67);
  }
}

bool h_sms_e164(const char *s) {
  if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9') {
    return false;
  }
  size_t digits = strspn(s + 1, "0123456789");
  return s[1 + digits] == '\0' && digits >= 7 && digits <= 15;
}
