/* password_policy.h - what a new password must satisfy: 10 to 256 bytes, not one of
 * the 1,000 most common passwords (common/data/common_passwords.txt, compared
 * case-insensitively), not a single repeated character. */
#ifndef HERALD_PASSWORD_POLICY_H
#define HERALD_PASSWORD_POLICY_H

#include <stdbool.h>

#include "core/result.h"

#define H_PASSWORD_MIN 10
#define H_PASSWORD_MAX 256

/* H_OK or H_ERR_INVALID with *code ("too_short", "too_long", "too_common") and a
 * static *message. Thread-safe. */
h_result h_password_check(const char *password, const char **code, const char **message);

#endif
