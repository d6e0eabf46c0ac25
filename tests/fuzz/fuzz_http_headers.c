/* fuzz_http_headers.c - the request header checks of api/http/http.c: X-Request-Id (echoed
 * back when valid) and Content-Type (application/json with parameters). */
#include "fuzz_input.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_strndup(data, size);
  (void)h_request_id_valid(s);
  (void)h_is_json_content_type(s);
  free(s);
  return 0;
}
