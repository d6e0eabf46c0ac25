/* fuzz_http_headers.c - request headers and query parameters: X-Request-Id (echoed back when
 * valid) and Content-Type (application/json with parameters) of api/http/http.c, the
 * Idempotency-Key check of store/idempotency.c, and the pagination parameters limit and
 * starting_after read by h_page_parse (api/http/request.c). */
#include <ulfius.h>

#include "core/errors.h"
#include "core/page.h"
#include "fuzz_input.h"
#include "http/http.h"
#include "http/request.h"
#include "store/idempotency.h"

static void page_params(const char *limit, const char *after) {
  struct _u_request request;
  if (ulfius_init_request(&request) != U_OK) {
    abort();
  }
  u_map_put(request.map_url, "limit", limit);
  u_map_put(request.map_url, "starting_after", after);
  struct h_req rq = {.request = &request};
  struct h_page page;
  struct h_field_errors fe = {0};
  h_page_parse(&rq, &page, &fe);
  if (h_field_errors_count(&fe) == 0 && (page.limit < 1 || page.limit > 100)) {
    abort(); /* a limit out of range was accepted */
  }
  h_field_errors_clear(&fe);
  ulfius_clean_request(&request);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = fuzz_strndup(data, size);
  (void)h_request_id_valid(s);
  (void)h_is_json_content_type(s);
  (void)h_idem_key_valid(s);
  page_params(s, s);
  free(s);
  return 0;
}
