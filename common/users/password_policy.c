/* password_policy.c - password rules and the common-password list. */
#include "users/password_policy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/embedded.h"

extern const struct herald_embedded herald_common_passwords[];

static char **words;
static size_t nwords;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int cmp(const void *a, const void *b) {
  return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* Splits the embedded list into a sorted array, once per process. */
static void load(void) {
  const char *data = herald_common_passwords[0].data;
  size_t cap = 1024;
  words = h_malloc(cap * sizeof(char *));
  for (const char *p = data; *p != '\0';) {
    size_t n = strcspn(p, "\n");
    if (n > 0) {
      if (nwords == cap) {
        cap *= 2;
        words = h_realloc(words, cap * sizeof(char *));
      }
      words[nwords++] = h_strndup(p, n);
    }
    p += n + (p[n] == '\n');
  }
  qsort(words, nwords, sizeof(char *), cmp);
}

h_result h_password_check(const char *password, const char **code, const char **message) {
  size_t len = password != NULL ? strlen(password) : 0;
  if (len < H_PASSWORD_MIN) {
    *code = "password_too_short";
    *message = "The password must be at least 10 characters long.";
    return H_ERR_INVALID;
  }
  if (len > H_PASSWORD_MAX) {
    *code = "password_too_long";
    *message = "The password must be at most 256 characters long.";
    return H_ERR_INVALID;
  }
  pthread_once(&once, load);
  bool repeated = true;
  for (size_t i = 1; i < len && repeated; i++) {
    repeated = password[i] == password[0];
  }
  if (repeated || bsearch(&password, words, nwords, sizeof(char *), cmp) != NULL) {
    *code = "password_too_common";
    *message = "This password is too common; choose another.";
    return H_ERR_INVALID;
  }
  return H_OK;
}
