/* fuzz_urlform.c - an application/x-www-form-urlencoded body (api/http/urlform.c) as the SMS
 * status webhook takes it, then its X-Twilio-Signature over the decoded fields
 * (api/webhooks/sms.c). */
#include "fuzz_input.h"
#include "http/urlform.h"
#include "webhooks/sms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct h_urlform form = {0};
  if (h_urlform_parse((const char *)data, size, 64, &form) == H_OK) {
    (void)h_urlform_get(&form, "MessageSid");
    (void)h_urlform_get(&form, "MessageStatus");
    const char *sig = h_urlform_get(&form, "Signature");
    (void)h_twilio_signature_ok("token", "https://herald.example/api/v1/webhooks/sms/status",
                                &form, sig);
  }
  h_urlform_free(&form);
  return 0;
}
