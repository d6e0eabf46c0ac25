/* urlform.h - application/x-www-form-urlencoded bodies (provider webhooks). */
#ifndef HERALD_URLFORM_H
#define HERALD_URLFORM_H

#include <stddef.h>

#include "core/result.h"

struct h_urlform {
  size_t n;
  char **names;  /* decoded, owned */
  char **values; /* decoded, owned */
};

/* Parses body (len bytes; '+' is a space, %XX an octet). H_ERR_INVALID for a bad
 * escape or more than max_fields fields. Caller frees out with h_urlform_free, also
 * on failure. */
h_result h_urlform_parse(const char *body, size_t len, size_t max_fields, struct h_urlform *out);
void h_urlform_free(struct h_urlform *f);

/* The value of the first field called name (borrowed), or NULL. */
const char *h_urlform_get(const struct h_urlform *f, const char *name);

#endif
