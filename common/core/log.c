/* log.c - JSON lines on yder. */
#include "core/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <yder.h>

#include "core/alloc.h"

enum h_log_level h_log_threshold = H_LOG_INFO;
static char app_name[32] = "herald";

static const char *level_names[] = {"error", "warning", "info", "debug"};
static const unsigned long yder_levels[] = {Y_LOG_LEVEL_ERROR, Y_LOG_LEVEL_WARNING,
                                            Y_LOG_LEVEL_INFO, Y_LOG_LEVEL_DEBUG};

int h_log_level_parse(const char *name) {
  for (int i = 0; i < 4; i++) {
    if (name != NULL && strcmp(name, level_names[i]) == 0) {
      return i;
    }
  }
  return -1;
}

static const char *yder_level_name(unsigned long level) {
  for (int i = 0; i < 4; i++) {
    if (level == yder_levels[i]) {
      return level_names[i];
    }
  }
  return "info";
}

static void format_ts(char *out, size_t outlen) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, outlen - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* yder callback: our own lines are already JSON; foreign ones get wrapped. */
static void write_line(void *cls, const char *app, const time_t date, const unsigned long level,
                       const char *message) {
  (void)cls;
  (void)date;
  if (message[0] == '{') {
    size_t len = strlen(message);
    char *line = h_malloc(len + 2);
    memcpy(line, message, len);
    line[len] = '\n';
    fwrite(line, 1, len + 1, stderr);
    free(line);
    return;
  }
  char ts[40];
  format_ts(ts, sizeof(ts));
  json_t *obj = json_pack("{ssssssss}", "ts", ts, "level", yder_level_name(level), "app", app,
                          "msg", message);
  char *s = json_dumps(obj, JSON_COMPACT);
  if (s != NULL) {
    fprintf(stderr, "%s\n", s);
    free(s);
  }
  json_decref(obj);
}

static bool initialised;

void h_log_init(const char *app, const char *level_name) {
  if (initialised) {
    y_close_logs();
  }
  initialised = true;
  int level = h_log_level_parse(level_name);
  h_log_threshold = level < 0 ? H_LOG_INFO : (enum h_log_level)level;
  snprintf(app_name, sizeof(app_name), "%s", app);
  y_init_logs(app, Y_LOG_MODE_CALLBACK, yder_levels[h_log_threshold], NULL, NULL);
  y_set_logs_callback(write_line, NULL, NULL);
  setvbuf(stderr, NULL, _IOLBF, 0);
}

void h_log_close(void) {
  if (initialised) {
    y_close_logs();
    initialised = false;
  }
}

void h_log_emit(enum h_log_level level, const char *kind, const char *request_id, json_t *fields,
                const char *fmt, ...) {
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);

  char ts[40];
  format_ts(ts, sizeof(ts));
  json_t *obj = json_pack("{ssssss}", "ts", ts, "level", level_names[level], "app", app_name);
  if (kind != NULL) {
    json_object_set_new(obj, "kind", json_string(kind));
  }
  if (request_id != NULL) {
    json_object_set_new(obj, "request_id", json_string(request_id));
  }
  json_object_set_new(obj, "msg", json_string(msg));
  if (fields != NULL) {
    json_object_update_missing(obj, fields);
    json_decref(fields);
  }
  char *line = json_dumps(obj, JSON_COMPACT);
  json_decref(obj);
  if (line != NULL) {
    y_log_message(yder_levels[level], "%s", line);
    free(line);
  }
}

void h_mask_email(const char *email, char *out, size_t outlen) {
  const char *at = email != NULL ? strchr(email, '@') : NULL;
  if (at == NULL || at == email) {
    snprintf(out, outlen, "***");
    return;
  }
  snprintf(out, outlen, "%c***%s", email[0], at);
}

void h_mask_phone(const char *phone, char *out, size_t outlen) {
  size_t len = phone != NULL ? strlen(phone) : 0;
  if (len < 6) {
    snprintf(out, outlen, "***");
    return;
  }
  snprintf(out, outlen, "%.2s*******%s", phone, phone + len - 3);
}

void h_mask_token(const char *token, char *out, size_t outlen) {
  if (token == NULL || strlen(token) < 8) {
    snprintf(out, outlen, "***");
    return;
  }
  snprintf(out, outlen, "%.4s***", token);
}
