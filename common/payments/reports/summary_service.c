/* summary_service.c - payment figures for admins and for /metrics. */
#include "payments/reports/summary_service.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "payments/reports/summary_repo.h"
#include "store/db.h"

struct period_op {
  const char *from, *to;
  bool bounded;
  json_t *out;
};

static h_result period_tx(PGconn *conn, void *arg) {
  struct period_op *o = arg;
  return h_summary_repo_period(conn, o->from, o->to, o->bounded, &o->out);
}

h_result h_payment_summary(struct h_app *app, const char *from, const char *to,
                           json_t **summary, struct h_error *err) {
  struct period_op o = {.from = from, .to = to, .bounded = true};
  memset(err, 0, sizeof(*err));
  *summary = NULL;
  h_result r = h_db_run(app->db, period_tx, &o);
  if (r == H_ERR_INVALID) {
    return h_error_set(err, r, "invalid_period",
                       "from must be before to, and the period at most 366 days.", "from");
  }
  if (r != H_OK) {
    return h_error_set(err, r, NULL, "The figures could not be read.", NULL);
  }
  json_object_set_new(o.out, "object", json_string("payment_summary"));
  *summary = o.out;
  return H_OK;
}

/* The all-time figures of this process, and when they were read. */
static struct {
  pthread_mutex_t lock;
  json_t *figures;
  time_t read_at;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void gauge(FILE *out, const char *name, const json_t *row, const char *label,
                  const char *value, long long n) {
  fprintf(out, "%s{currency=\"%s\"%s%s%s} %lld\n", name,
          json_string_value(json_object_get(row, "currency")), label != NULL ? "," : "",
          label != NULL ? label : "", label != NULL ? value : "", n);
}

static long long num(const json_t *obj, const char *name) {
  return (long long)json_integer_value(json_object_get(obj, name));
}

/* Writes figures (borrowed) in the text exposition format. */
static void render(const json_t *figures, FILE *out) {
  size_t i;
  const json_t *row;
  static const char *const by_status[] = {"count", "volume", NULL};
  for (size_t k = 0; by_status[k] != NULL; k++) {
    char name[64];
    snprintf(name, sizeof(name), "herald_payments_%s", by_status[k]);
    fprintf(out, "# HELP %s Payments (%s, minor units for volume) by currency and status.\n"
                 "# TYPE %s gauge\n", name, by_status[k], name);
    json_array_foreach(json_object_get(figures, "by_status"), i, row) {
      char status[64];
      snprintf(status, sizeof(status), "%s\"",
               json_string_value(json_object_get(row, "status")));
      gauge(out, name, row, "status=\"", status, num(row, by_status[k]));
    }
  }
  static const char *const totals[] = {"refunded", "disputed", "net", NULL};
  for (size_t k = 0; totals[k] != NULL; k++) {
    fprintf(out, "# TYPE herald_payments_%s gauge\n", totals[k]);
    char name[64];
    snprintf(name, sizeof(name), "herald_payments_%s", totals[k]);
    json_array_foreach(json_object_get(figures, "by_currency"), i, row) {
      gauge(out, name, row, NULL, NULL, num(row, totals[k]));
    }
  }
  fprintf(out, "# TYPE herald_payments_fees gauge\n");
  json_array_foreach(json_object_get(figures, "by_currency"), i, row) {
    const json_t *fees = json_object_get(row, "fees");
    gauge(out, "herald_payments_fees", row, "kind=\"", "provider\"", num(fees, "provider"));
    gauge(out, "herald_payments_fees", row, "kind=\"", "platform\"", num(fees, "platform"));
  }
}

void h_payment_summary_metrics(struct h_app *app, FILE *out) {
  pthread_mutex_lock(&cache.lock);
  if (cache.figures == NULL || time(NULL) - cache.read_at >= 60) {
    struct period_op o = {.from = "1970-01-01T00:00:00Z", .to = NULL, .bounded = false};
    if (h_db_run(app->db, period_tx, &o) == H_OK) { /* all time, up to now */
      json_decref(cache.figures);
      cache.figures = o.out;
      cache.read_at = time(NULL);
    }
  }
  if (cache.figures != NULL) {
    render(cache.figures, out);
  }
  pthread_mutex_unlock(&cache.lock);
}
