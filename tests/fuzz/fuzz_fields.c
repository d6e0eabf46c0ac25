/* fuzz_fields.c - the value checks of core/fields.c (e-mail, E.164 phone, IANA zone, locale,
 * RFC 3339 timestamp) and the UUID check of crypto/ over one string. */
#include "core/fields.h"
#include "crypto/crypto.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_strndup(data, size);
  (void)h_valid_email(s);
  (void)h_valid_phone(s);
  (void)h_valid_timezone(s);
  (void)h_valid_locale(s);
  (void)h_valid_timestamp(s);
  (void)h_uuid_valid(s);
  free(s);
  return 0;
}
