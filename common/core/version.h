/* version.h - what a binary says about itself: the release, the git commit it was built
 * from and the build type (cmake/version.cmake writes them at every build). */
#ifndef HERALD_VERSION_H
#define HERALD_VERSION_H

#include <stdio.h>

extern const char h_version_number[];     /* "0.1.0" */
extern const char h_version_commit[];     /* short git commit, "-dirty" when modified, or "unknown" */
extern const char h_version_build_type[]; /* CMake build type: RelWithDebInfo, Debug, ... */

/* Prints "<program> <version> (commit <c>, <build type> build)\n" to out. out is borrowed. */
void h_version_print(FILE *out, const char *program);

#endif
