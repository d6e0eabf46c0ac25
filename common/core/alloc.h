/* alloc.h - the one out-of-memory policy: allocation failure aborts.
 *
 * Herald never tries to limp on without memory; callers therefore never test
 * these for NULL. jansson and orcania (and so ulfius) are pointed at the same
 * functions by h_alloc_install(). */
#ifndef HERALD_ALLOC_H
#define HERALD_ALLOC_H

#include <stddef.h>

/* Each returns memory the caller frees with free(); never NULL. */
void *h_malloc(size_t n);
void *h_calloc(size_t count, size_t n);
void *h_realloc(void *p, size_t n);
char *h_strdup(const char *s);          /* NULL in, NULL out */
char *h_strndup(const char *s, size_t n);
/* printf into a new string the caller frees. */
char *h_sprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Points jansson and orcania at the aborting allocators. Call once, first thing. */
void h_alloc_install(void);

#endif
