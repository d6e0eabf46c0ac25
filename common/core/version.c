/* version.c - the one-line answer of every binary's --version. */
#include "core/version.h"

void h_version_print(FILE *out, const char *program) {
  fprintf(out, "%s %s (commit %s, %s build)\n", program, h_version_number, h_version_commit,
          h_version_build_type);
}
