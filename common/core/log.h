/* log.h - JSON-lines logging on yder.
 *
 * Every line is one JSON object: {"ts","level","app","kind"?,"request_id"?,"msg",...}.
 * kind is a contract operators alert on: "security" (failed logins, token reuse...),
 * "event" (audit trail), "access" (one per request), NULL for plain messages.
 * h_log() skips argument evaluation below the configured level. Messages of other
 * libraries that log through yder (ulfius) are wrapped into the same shape. */
#ifndef HERALD_LOG_H
#define HERALD_LOG_H

#include <jansson.h>
#include <stddef.h>

enum h_log_level { H_LOG_ERROR = 0, H_LOG_WARNING = 1, H_LOG_INFO = 2, H_LOG_DEBUG = 3 };

/* Set once by h_log_init; read by the h_log macros. */
extern enum h_log_level h_log_threshold;

/* Starts logging to stderr as app. level_name: error|warning|info|debug. */
void h_log_init(const char *app, const char *level_name);
void h_log_close(void);

/* Parses a level name; returns -1 when unknown. */
int h_log_level_parse(const char *name);

#define h_log(level, kind, request_id, ...)                 \
  do {                                                      \
    if ((level) <= h_log_threshold) {                       \
      h_log_emit((level), (kind), (request_id), NULL, __VA_ARGS__); \
    }                                                       \
  } while (0)

#define h_log_error(...) h_log(H_LOG_ERROR, NULL, NULL, __VA_ARGS__)
#define h_log_warning(...) h_log(H_LOG_WARNING, NULL, NULL, __VA_ARGS__)
#define h_log_info(...) h_log(H_LOG_INFO, NULL, NULL, __VA_ARGS__)
#define h_log_debug(...) h_log(H_LOG_DEBUG, NULL, NULL, __VA_ARGS__)

/* Writes one line. fields (may be NULL) is stolen and merged into the object. */
void h_log_emit(enum h_log_level level, const char *kind, const char *request_id, json_t *fields,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Masking for personal data in logs; each writes a NUL-terminated string into out.
 * "jane.doe@example.com" -> "j***@example.com"; "+14155550123" -> "+1*******123";
 * tokens keep their first 4 characters. */
void h_mask_email(const char *email, char *out, size_t outlen);
void h_mask_phone(const char *phone, char *out, size_t outlen);
void h_mask_token(const char *token, char *out, size_t outlen);

#endif
