/* fuzz_urlform.c - an application/x-www-form-urlencoded body (api/http/urlform.c) as the SMS
 * status webhook takes it, then its X-Twilio-Signature over the decoded fields
 * (api/webhooks/sms.c) and the rank of the reported status (notifications/sms_status.c). */
#include "fuzz_input.h"
#include "http/urlform.h"
#include "webhooks/sms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct h_urlform form = {0};
  if (h_urlform_parse((const char *)data, size, 64, &form) == H_OK) {
    (void)h_urlform_get(&form, "MessageSid");
    (void)h_sms_status_rank(h_urlform_get(&form, "MessageStatus"));
    static const char url[] = "https://herald.example/api/v1/webhooks/sms/status";
    (void)h_twilio_signature_ok("token", url, &form, h_urlform_get(&form, "Signature"));
    char own[32];
    h_twilio_signature("token", url, &form, own);
    if (!h_twilio_signature_ok("token", url, &form, own)) {
      abort(); /* our own signature of this form was refused */
    }
    for (size_t i = 0; i < form.n; i++) {
      if (strlen(form.names[i]) > size || strlen(form.values[i]) > size) {
        abort(); /* decoding never lengthens */
      }
    }
  }
  h_urlform_free(&form);
  return 0;
}
