/* page.h - cursor pagination (DESIGN.md, "Lists"): the page a caller asked for and the
 * list envelope it is answered with. */
#ifndef HERALD_PAGE_H
#define HERALD_PAGE_H

#include <jansson.h>
#include <stdbool.h>

struct h_page {
  int limit;                  /* 1..100, default 20 */
  const char *starting_after; /* a UUID or NULL; borrowed from the request */
};

/* {"object":"list","data":data,"has_more":has_more}; data is stolen. */
json_t *h_list_body(json_t *data, bool has_more);

#endif
