/* embedded.h - files compiled into the binaries (migrations, OpenAPI document). */
#ifndef HERALD_EMBEDDED_H
#define HERALD_EMBEDDED_H

#include <stddef.h>

struct herald_embedded {
  const char *name; /* file name, e.g. "0001_init.sql" */
  const char *data; /* NUL-terminated contents, static */
  size_t len;       /* length without the NUL */
};

#endif
