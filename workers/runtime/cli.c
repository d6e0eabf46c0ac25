/* cli.c - the command line shared by every worker (getopt_long). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "core/log.h"
#include "rt.h"

void h_cli_usage(FILE *out, const char *program) {
  fprintf(out,
          "Usage: %s [options]                      run the worker\n"
          "       %s dlq list [--limit N]           dead jobs, newest first\n"
          "       %s dlq replay (--id ID | --all)   dead jobs back to the queue\n"
          "       %s dlq purge [--older-than DUR]   drop dead jobs (all, or older than DUR)\n"
          "       %s stats [--json]                 the queue's depths, dead jobs, oldest\n"
          "                                                queued job (--json: one JSON object)\n"
          "       %s --check-config                 validate the HERALD_* environment and\n"
          "                                                exit (0 valid, 78 not), connecting\n"
          "                                                to nothing\n\n",
          program, program, program, program, program, program);
  fputs("Options:\n"
        "  -c, --concurrency N   worker threads, each with its own Redis and PostgreSQL\n"
        "                        connection (1-256; default HERALD_WORKER_CONCURRENCY)\n"
        "  -b, --batch N         ids a thread fetches, claims and records at once\n"
        "                        (1-500; default HERALD_WORKER_BATCH; 1: one by one)\n"
        "      --in-flight N     provider requests a thread keeps in flight at once, for\n"
        "                        the HTTP providers (1-100; default\n"
        "                        HERALD_WORKER_IN_FLIGHT; 1: one by one)\n"
        "      --once            drain what is ready now, then exit\n"
        "      --max-jobs N      exit after N jobs\n"
        "      --dry-run         render and log what is ready; send nothing, change nothing\n"
        "      --log-level L     error, warning, info or debug (default HERALD_LOG_LEVEL)\n"
        "      --metrics-port P  serve Prometheus metrics on 127.0.0.1:P/metrics\n"
        "                        (default HERALD_WORKER_METRICS_PORT; 0: off)\n"
        "  -h, --help            this text\n"
        "  -V, --version         the version, git commit and build type\n\n"
        "DUR: a number of seconds or a duration such as 90s, 15m, 2h, 7d.\n"
        "SIGTERM or SIGINT drains (in-flight jobs finish, the rest go back to the queue)\n"
        "and exits 0; a second signal exits at once. Configuration: HERALD_* variables\n"
        "(see README.md). Exit codes: 0 ok, 1 failure, 2 bad usage, 78 bad configuration.\n",
        out);
}

long h_parse_duration(const char *s) {
  if (s == NULL || *s < '0' || *s > '9') {
    return -1;
  }
  errno = 0;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  long unit = 1;
  if (*end == 's') {
    end++;
  } else if (*end == 'm') {
    unit = 60, end++;
  } else if (*end == 'h') {
    unit = 3600, end++;
  } else if (*end == 'd') {
    unit = 86400, end++;
  }
  if (errno != 0 || *end != '\0' || v < 0 || v > 3650L * 86400 / unit) {
    return -1;
  }
  return v * unit;
}

/* Strict integer in [min, max]; false when s is anything else. */
static bool int_arg(const char *s, long min, long max, long *out) {
  errno = 0;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
    return false;
  }
  *out = v;
  return true;
}

enum { OPT_ONCE = 256, OPT_MAX_JOBS, OPT_DRY_RUN, OPT_LOG_LEVEL, OPT_METRICS_PORT, OPT_ID,
       OPT_ALL, OPT_OLDER_THAN, OPT_LIMIT, OPT_CHECK_CONFIG, OPT_IN_FLIGHT };

static const struct option global_options[] = {
  {"concurrency", required_argument, NULL, 'c'},
  {"batch", required_argument, NULL, 'b'},
  {"in-flight", required_argument, NULL, OPT_IN_FLIGHT},
  {"once", no_argument, NULL, OPT_ONCE},
  {"max-jobs", required_argument, NULL, OPT_MAX_JOBS},
  {"dry-run", no_argument, NULL, OPT_DRY_RUN},
  {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
  {"metrics-port", required_argument, NULL, OPT_METRICS_PORT},
  {"help", no_argument, NULL, 'h'},
  {"version", no_argument, NULL, 'V'},
  {"check-config", no_argument, NULL, OPT_CHECK_CONFIG},
  {NULL, 0, NULL, 0},
};

static const struct option dlq_options[] = {
  {"id", required_argument, NULL, OPT_ID},
  {"all", no_argument, NULL, OPT_ALL},
  {"older-than", required_argument, NULL, OPT_OLDER_THAN},
  {"limit", required_argument, NULL, OPT_LIMIT},
  {"help", no_argument, NULL, 'h'},
  {NULL, 0, NULL, 0},
};

/* The message for getopt_long's '?' (unknown option or missing argument). */
static int bad_option(char **argv, char *err, size_t errlen) {
  const char *arg = optind > 0 ? argv[optind - 1] : "?";
  if (optopt != 0 && optopt < 256) {
    snprintf(err, errlen, "invalid option or missing value: -%c", optopt);
  } else {
    snprintf(err, errlen, "invalid option or missing value: %s", arg);
  }
  return 2;
}

/* Applies one global option; 0 or 2 with err set. */
static int global_option(int c, struct h_worker_opts *o, char *err, size_t errlen) {
  long v = 0;
  switch (c) {
  case 'c':
    if (!int_arg(optarg, 1, 256, &v)) {
      snprintf(err, errlen, "--concurrency: '%s' is not a number from 1 to 256", optarg);
      return 2;
    }
    o->concurrency = (int)v;
    return 0;
  case 'b':
    if (!int_arg(optarg, 1, H_BATCH_MAX, &v)) {
      snprintf(err, errlen, "--batch: '%s' is not a number from 1 to %d", optarg, H_BATCH_MAX);
      return 2;
    }
    o->batch = (int)v;
    return 0;
  case OPT_IN_FLIGHT:
    if (!int_arg(optarg, 1, H_IN_FLIGHT_MAX, &v)) {
      snprintf(err, errlen, "--in-flight: '%s' is not a number from 1 to %d", optarg,
               H_IN_FLIGHT_MAX);
      return 2;
    }
    o->in_flight = (int)v;
    return 0;
  case OPT_ONCE:
    o->once = true;
    return 0;
  case OPT_MAX_JOBS:
    if (!int_arg(optarg, 1, 1000000000L, &v)) {
      snprintf(err, errlen, "--max-jobs: '%s' is not a positive number", optarg);
      return 2;
    }
    o->max_jobs = v;
    return 0;
  case OPT_DRY_RUN:
    o->dry_run = true;
    return 0;
  case OPT_LOG_LEVEL:
    if (h_log_level_parse(optarg) < 0) {
      snprintf(err, errlen, "--log-level: '%s' is not one of error, warning, info, debug",
               optarg);
      return 2;
    }
    o->log_level = optarg;
    return 0;
  case OPT_METRICS_PORT:
    if (!int_arg(optarg, 0, 65535, &v)) {
      snprintf(err, errlen, "--metrics-port: '%s' is not a port (0-65535)", optarg);
      return 2;
    }
    o->metrics_port = (int)v;
    return 0;
  case 'h':
    o->cmd = H_CMD_HELP;
    return 0;
  case 'V':
    o->cmd = H_CMD_VERSION;
    return 0;
  case OPT_CHECK_CONFIG:
    o->cmd = H_CMD_CHECK_CONFIG;
    return 0;
  default:
    return 2;
  }
}

/* Applies one dlq option; 0 or 2 with err set. */
static int dlq_option(int c, struct h_worker_opts *o, char *err, size_t errlen) {
  long v = 0;
  switch (c) {
  case OPT_ID:
    o->replay_id = optarg;
    return 0;
  case OPT_ALL:
    o->replay_all = true;
    return 0;
  case OPT_OLDER_THAN:
    o->older_than_s = h_parse_duration(optarg);
    if (o->older_than_s < 0) {
      snprintf(err, errlen, "--older-than: '%s' is not a duration such as 90s, 15m, 2h, 7d",
               optarg);
      return 2;
    }
    return 0;
  case OPT_LIMIT:
    if (!int_arg(optarg, 1, 100000, &v)) {
      snprintf(err, errlen, "--limit: '%s' is not a number from 1 to 100000", optarg);
      return 2;
    }
    o->limit = (int)v;
    return 0;
  case 'h':
    o->cmd = H_CMD_HELP;
    return 0;
  default:
    return 2;
  }
}

/* Checks that the options given fit the dlq action chosen. */
static int check_dlq(struct h_worker_opts *o, char *err, size_t errlen) {
  bool replay = o->cmd == H_CMD_DLQ_REPLAY;
  if (o->cmd == H_CMD_HELP) {
    return 0;
  }
  if (replay && (o->replay_id == NULL) == !o->replay_all) {
    snprintf(err, errlen, "dlq replay: give exactly one of --id ID or --all");
    return 2;
  }
  if (!replay && (o->replay_id != NULL || o->replay_all)) {
    snprintf(err, errlen, "--id and --all belong to 'dlq replay'");
    return 2;
  }
  if (o->cmd != H_CMD_DLQ_PURGE && o->older_than_s >= 0) {
    snprintf(err, errlen, "--older-than belongs to 'dlq purge'");
    return 2;
  }
  if (o->cmd != H_CMD_DLQ_LIST && o->limit != 100) {
    snprintf(err, errlen, "--limit belongs to 'dlq list'");
    return 2;
  }
  return 0;
}

static int parse_dlq(int argc, char **argv, struct h_worker_opts *o, char *err, size_t errlen) {
  static const char *actions[] = {"list", "replay", "purge"};
  static const enum h_worker_cmd cmds[] = {H_CMD_DLQ_LIST, H_CMD_DLQ_REPLAY, H_CMD_DLQ_PURGE};
  if (argc < 2) {
    snprintf(err, errlen, "dlq: which action? list, replay or purge");
    return 2;
  }
  o->cmd = H_CMD_RUN;
  for (int i = 0; i < 3; i++) {
    if (strcmp(argv[1], actions[i]) == 0) {
      o->cmd = cmds[i];
    }
  }
  if (o->cmd == H_CMD_RUN) {
    snprintf(err, errlen, "dlq: unknown action '%s' (list, replay or purge)", argv[1]);
    return 2;
  }
  optind = 0; /* restart getopt on the action's own arguments */
  int c;
  while ((c = getopt_long(argc - 1, argv + 1, "+:h", dlq_options, NULL)) != -1) {
    int rc = c == '?' || c == ':' ? bad_option(argv + 1, err, errlen) : dlq_option(c, o, err, errlen);
    if (rc != 0) {
      return rc;
    }
  }
  if (optind < argc - 1) {
    snprintf(err, errlen, "dlq %s: unexpected argument '%s'", argv[1], argv[optind + 1]);
    return 2;
  }
  return check_dlq(o, err, errlen);
}

int h_cli_parse(int argc, char **argv, struct h_worker_opts *o, char *err, size_t errlen) {
  memset(o, 0, sizeof(*o));
  o->cmd = H_CMD_RUN;
  o->metrics_port = -1;
  o->older_than_s = -1;
  o->limit = 100;
  opterr = 0;
  optind = 0;
  int c;
  while ((c = getopt_long(argc, argv, "+:c:b:hV", global_options, NULL)) != -1) {
    int rc = c == '?' || c == ':' ? bad_option(argv, err, errlen)
                                  : global_option(c, o, err, errlen);
    if (rc != 0) {
      return rc;
    }
  }
  if (o->cmd != H_CMD_RUN || optind >= argc) {
    return 0;
  }
  if (strcmp(argv[optind], "dlq") == 0) {
    return parse_dlq(argc - optind, argv + optind, o, err, errlen);
  }
  if (strcmp(argv[optind], "stats") == 0) {
    o->cmd = H_CMD_STATS;
    for (int i = optind + 1; i < argc; i++) {
      if (strcmp(argv[i], "--json") != 0 || o->json) {
        snprintf(err, errlen, "stats: unexpected argument '%s' (stats [--json])", argv[i]);
        return 2;
      }
      o->json = true;
    }
    return 0;
  }
  snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
  return 2;
}
