/* page.c - the list envelope of cursor pagination. */
#include "core/page.h"

json_t *h_list_body(json_t *data, bool has_more) {
  return json_pack("{sssosb}", "object", "list", "data", data, "has_more", has_more);
}
