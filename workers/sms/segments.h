/* segments.h - how many SMS segments a text takes (pure, unit-tested).
 *
 * Text that fits the GSM 03.38 alphabet is sent as GSM-7: 160 septets in one
 * segment, 153 per segment when concatenated; characters of the extension table
 * (^ { } \ [ ~ ] | and the euro sign) take two septets and are never split.
 * Anything else goes as UCS-2: 70 UTF-16 units in one segment, 67 per segment
 * when concatenated, surrogate pairs never split. */
#ifndef HERALD_SEGMENTS_H
#define HERALD_SEGMENTS_H

#include <stdbool.h>

struct h_sms_segments {
  int segments;
  int units;    /* septets (GSM-7) or UTF-16 code units (UCS-2) */
  bool ucs2;
};

void h_sms_count(const char *utf8, struct h_sms_segments *out);

/* True for an E.164 number: + then 7 to 15 digits, no leading zero. */
bool h_sms_e164(const char *s);

#endif
