/* main.c - herald-reconcile: the command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "core/config.h"
#include "core/log.h"
#include "reconcile/reconcile.h"
#include "reconcile_worker.h"
#include "core/version.h"

#define EXIT_USAGE 2
#define EXIT_CONFIG 78

static void usage(FILE *out) {
  fputs("Usage: herald-reconcile [options]              run the worker\n"
        "       herald-reconcile run [--since DATE] [--until DATE] [--dry-run]\n"
        "                                               a ledger run (default: yesterday, UTC)\n"
        "       herald-reconcile sync (--payment ID | --refund ID)\n"
        "                                               sync one payment or refund now\n"
        "       herald-reconcile housekeeping           delete rows past retention now\n\n"
        "Options:\n"
        "  -c, --concurrency N   worker threads, each with its own Redis and PostgreSQL\n"
        "                        connection (1..256, default 1)\n"
        "      --once            drain what is ready now, then exit\n"
        "      --max-jobs N      exit after N jobs\n"
        "      --every DUR       schedule the due syncs, yesterday's ledger run and\n"
        "                        housekeeping every DUR (once across all copies)\n"
        "      --dry-run         worker: list the ready job ids; run: write nothing\n"
        "      --log-level L     error, warning, info or debug (default HERALD_LOG_LEVEL)\n"
        "      --metrics-port P  Prometheus /metrics on 127.0.0.1:P (0: off; default\n"
        "                        HERALD_WORKER_METRICS_PORT)\n"
        "      --check-config    validate the HERALD_* environment and exit (0 valid,\n"
        "                        78 not), connecting to nothing\n"
        "  -h, --help            this text\n"
        "  -V, --version         the version, git commit and build type\n\n"
        "DATE: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); until is exclusive; at most 31 days.\n"
        "DUR: seconds or 90s, 15m, 2h, 1d. SIGTERM drains (the jobs in hand finish).\n"
        "Failed jobs are retried after their delay without --every (every copy sweeps).\n"
        "Exit codes: 0 ok, 1 failure, 2 bad usage, 78 bad configuration.\n",
        out);
}

static long parse_duration(const char *s) {
  char *end = NULL;
  if (s == NULL || *s < '0' || *s > '9') {
    return -1;
  }
  long v = strtol(s, &end, 10);
  long unit = *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 1;
  if (*end == 's' || unit > 1) {
    end++;
  }
  return *end == '\0' && v > 0 && v <= 365L * 86400 / unit ? v * unit : -1;
}

/* A decimal in [lo, hi], else -1. */
static long parse_int(const char *s, long lo, long hi) {
  char *end = NULL;
  if (s == NULL || *s < '0' || *s > '9') {
    return -1;
  }
  long v = strtol(s, &end, 10);
  return *end == '\0' && v >= lo && v <= hi ? v : -1;
}

struct cli {
  struct h_rw_options w;
  const char *command; /* NULL: the worker */
  const char *since, *until, *payment, *refund, *log_level;
  bool check_config;
};

static int parse(int argc, char **argv, struct cli *c) {
  static const struct option opts[] = {
    {"concurrency", required_argument, NULL, 'c'}, {"once", no_argument, NULL, 'o'},
    {"max-jobs", required_argument, NULL, 'm'},     {"every", required_argument, NULL, 'e'},
    {"dry-run", no_argument, NULL, 'd'},            {"log-level", required_argument, NULL, 'l'},
    {"metrics-port", required_argument, NULL, 'p'}, {"since", required_argument, NULL, 's'},
    {"until", required_argument, NULL, 'u'},        {"payment", required_argument, NULL, 'P'},
    {"refund", required_argument, NULL, 'R'},       {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},            {"check-config", no_argument, NULL, 'C'},
    {NULL, 0, NULL, 0}};
  int ch;
  char *end = NULL;
  while (optind < argc) {
    if ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) == -1) {
      if (c->command != NULL) {
        return EXIT_USAGE; /* one command only */
      }
      c->command = argv[optind++];
      continue;
    }
    switch (ch) {
    case 'c':
      if ((c->w.concurrency = (int)parse_int(optarg, 1, 256)) < 0) return EXIT_USAGE;
      break;
    case 'p':
      if ((c->w.metrics_port = (int)parse_int(optarg, 0, 65535)) < 0) return EXIT_USAGE;
      break;
    case 'o': c->w.once = true; break;
    case 'd': c->w.dry_run = true; break;
    case 'l': c->log_level = optarg; break;
    case 's': c->since = optarg; break;
    case 'u': c->until = optarg; break;
    case 'P': c->payment = optarg; break;
    case 'R': c->refund = optarg; break;
    case 'e': if ((c->w.every_s = parse_duration(optarg)) < 0) return EXIT_USAGE; break;
    case 'm':
      c->w.max_jobs = strtol(optarg, &end, 10);
      if (*end != '\0' || c->w.max_jobs < 1) return EXIT_USAGE;
      break;
    case 'h': usage(stdout); exit(0);
    case 'V': h_version_print(stdout, "herald-reconcile"); exit(0);
    case 'C': c->check_config = true; break;
    default: return EXIT_USAGE;
    }
  }
  return 0;
}

/* The period of `run`: [since, until), default yesterday; false when invalid. */
static bool run_period(const struct cli *c, time_t *since, time_t *until) {
  time_t now = time(NULL);
  *until = now - now % 86400;
  *since = *until - 86400;
  if (c->since != NULL && !h_reconcile_parse_time(c->since, since)) {
    return false;
  }
  if (c->until != NULL && !h_reconcile_parse_time(c->until, until)) {
    return false;
  }
  if (c->since != NULL && c->until == NULL) {
    *until = *since + 86400;
  }
  return *until > *since && *until - *since <= 31L * 86400;
}

static void print_summary(time_t since, time_t until, const struct h_ledger_totals *t,
                          const char *run_id, double secs) {
  char a[32], b[32];
  strftime(a, sizeof(a), "%Y-%m-%dT%H:%M:%SZ", gmtime(&since));
  strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%SZ", gmtime(&until));
  printf("period              %s .. %s\n", a, b);
  printf("run                 %s\n", run_id != NULL ? run_id : "(dry run: nothing written)");
  printf("%-20s %12s %12s\n", "", "herald", "provider");
  printf("%-20s %12d %12d\n", "succeeded objects", t->local_count, t->provider_count);
  printf("%-20s %12lld %12lld\n", "net amount (minor)", t->local_amount, t->provider_amount);
  for (int k = 0; k < 5; k++) {
    printf("%-20s %12d\n", h_ledger_kind_name(k), t->by_kind[k]);
  }
  printf("%-20s %12d (new: %d)\n", "differences", t->found, t->added);
  printf("%-20s %12.2f s\n", "duration", secs);
}

static int cmd_run(struct h_app *app, const struct cli *c) {
  time_t since, until;
  (void)run_period(c, &since, &until); /* checked by main() */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  char run_id[37] = "";
  struct h_ledger_totals t;
  h_result r = c->w.dry_run ? h_reconcile_ledger(app, NULL, since, until, &t, NULL)
                            : h_reconcile_run_create(app, since, until, NULL, run_id);
  if (r == H_OK && !c->w.dry_run) {
    r = h_reconcile_run_execute(app, run_id, &t);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (r != H_OK) {
    fprintf(stderr, "herald-reconcile run: failed (%s)\n", h_result_name(r));
    return EXIT_FAILURE;
  }
  print_summary(since, until, &t, c->w.dry_run ? NULL : run_id,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  return 0;
}

static int cmd_sync(struct h_app *app, const struct cli *c) {
  if ((c->payment == NULL) == (c->refund == NULL)) {
    usage(stderr);
    return EXIT_USAGE;
  }
  enum h_sync_outcome o = H_SYNC_SETTLED;
  h_result r = c->payment != NULL ? h_reconcile_sync_payment(app, c->payment, true, &o)
                                  : h_reconcile_sync_refund(app, c->refund, true, &o);
  if (r != H_OK) {
    fprintf(stderr, "herald-reconcile sync: %s\n",
            r == H_ERR_NOT_FOUND ? "no such payment or refund" : h_result_name(r));
    return EXIT_FAILURE;
  }
  printf("%s\n",
         o == H_SYNC_SETTLED ? "settled" : o == H_SYNC_PENDING ? "pending" : "needs_review");
  return 0;
}

static int dispatch(struct h_app *app, struct cli *c) {
  if (c->command == NULL) {
    char id[96];
    snprintf(id, sizeof(id), "reconcile-%ld", (long)getpid());
    c->w.worker_id = id;
    h_rw_signals();
    return h_rw_run(app, &c->w);
  }
  if (strcmp(c->command, "housekeeping") == 0) {
    long deleted = 0, notifications = 0;
    h_result r = h_reconcile_housekeeping(app, app->cfg->audit_retention_days,
                                          app->cfg->event_retention_days, &deleted,
                                          &notifications);
    if (r != H_OK) {
      fprintf(stderr, "herald-reconcile housekeeping: failed (%s)\n", h_result_name(r));
      return EXIT_FAILURE;
    }
    printf("deleted %ld rows (%ld notifications)\n", deleted, notifications);
    return 0;
  }
  return strcmp(c->command, "run") == 0 ? cmd_run(app, c) : cmd_sync(app, c);
}

int main(int argc, char **argv) {
  struct cli c = {0};
  c.w.concurrency = 1;
  c.w.metrics_port = -1; /* unset: HERALD_WORKER_METRICS_PORT */
  if (parse(argc, argv, &c) != 0 ||
      (c.command != NULL && strcmp(c.command, "run") != 0 && strcmp(c.command, "sync") != 0 &&
       strcmp(c.command, "housekeeping") != 0) ||
      (c.command == NULL && (c.since || c.until || c.payment || c.refund)) ||
      (c.check_config && c.command != NULL)) {
    usage(stderr);
    return EXIT_USAGE;
  }
  time_t since, until;
  if (c.command != NULL && strcmp(c.command, "run") == 0 && !run_period(&c, &since, &until)) {
    fprintf(stderr, "herald-reconcile run: bad --since/--until (dates, until after since, at "
                    "most 31 days)\n");
    usage(stderr);
    return EXIT_USAGE;
  }
  struct h_config cfg;
  char *error = NULL;
  if (h_config_load(&cfg, &error) != H_OK) {
    fprintf(stderr, "herald-reconcile: configuration error: %s\n", error != NULL ? error : "?");
    free(error);
    return EXIT_CONFIG;
  }
  if (c.check_config) {
    int rc = EXIT_SUCCESS;
    if (h_app_check_config(&cfg, &error) != H_OK) {
      fprintf(stderr, "herald-reconcile: configuration error: %s\n", error ? error : "?");
      free(error);
      rc = EXIT_CONFIG;
    } else {
      printf("herald-reconcile: configuration ok\n");
    }
    h_config_free(&cfg);
    return rc;
  }
  h_log_init("herald-reconcile", c.log_level != NULL ? c.log_level : cfg.log_level);
  if (c.w.metrics_port < 0) {
    c.w.metrics_port = cfg.worker_metrics_port;
  }
  if (cfg.db_pool_size < c.w.concurrency + 1) {
    cfg.db_pool_size = c.w.concurrency + 1; /* each thread's job borrows from the pool */
  }
  struct h_app app;
  int status = EXIT_CONFIG;
  if (h_app_init(&app, &cfg, "herald-reconcile", &error) == H_OK) {
    status = dispatch(&app, &c);
    h_app_free(&app);
  } else {
    fprintf(stderr, "herald-reconcile: %s\n", error != NULL ? error : "cannot start");
    free(error);
  }
  h_log_close();
  h_config_free(&cfg);
  return status;
}
