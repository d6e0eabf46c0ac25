/* runtime.c - h_worker_main: the command line, the configuration, the threads,
 * signals and the draining shutdown. */
#include <curl/curl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "crypto/crypto.h"
#include "core/log.h"
#include "store/redis_sentinel.h"
#include "failover.h"
#include "rt.h"
#include "queue/sweeper.h"
#include "core/version.h"


#define EXIT_USAGE 2
#define EXIT_CONFIG 78 /* EX_CONFIG */

/* The per-channel settings of cfg. */
static void channel_settings(struct h_rt *rt) {
  const struct h_config *cfg = rt->cfg;
  const char *hold = cfg->email_on_recovery;
  rt->max_attempts = cfg->email_max_attempts;
  if (rt->def->queue == H_QUEUE_SMS) {
    rt->max_attempts = cfg->sms_max_attempts;
    hold = cfg->sms_on_recovery;
  } else if (rt->def->queue == H_QUEUE_PUSH) {
    rt->max_attempts = cfg->push_max_attempts;
    hold = cfg->push_on_recovery;
  } else if (rt->def->queue == H_QUEUE_WEBHOOK) {
    rt->max_attempts = cfg->webhook_max_attempts;
    hold = "resend"; /* receivers deduplicate by webhook-id */
  }
  rt->hold_on_recovery = strcmp(hold, "hold") == 0;
}

/* Fills rt from cfg and opts; H_ERR_INVALID with *error (caller frees) on a bad value. */
static h_result rt_init(struct h_rt *rt, const struct h_worker_def *def,
                        const struct h_config *cfg, const struct h_worker_opts *opts,
                        char **error) {
  memset(rt, 0, sizeof(*rt));
  rt->def = def;
  rt->cfg = cfg;
  rt->opts = opts;
  rt->channel = h_queue_name(def->queue);
  /* HERALD_REDIS_URL and the Sentinel settings (common/store/redis_sentinel.h) */
  if (h_redis_target_from_config(cfg, &rt->redis_target, error) != H_OK) {
    return H_ERR_INVALID;
  }
  rt->db_opts = (struct h_db_options){
    .url = cfg->database_url,
    .pool_size = 1,
    .connect_timeout_s = cfg->db_connect_timeout_s,
    .statement_timeout_ms = cfg->db_statement_timeout_ms,
    .application_name = def->program,
    .prepared_statements = cfg->db_prepared_statements,
  };
  char host[64] = "host", rnd[5];
  unsigned char b[2] = {0, 0};
  gethostname(host, sizeof(host) - 1);
  host[strcspn(host, ".:/{} ")] = '\0';
  h_random_bytes_or_abort(b, sizeof(b));
  h_hex_encode(b, sizeof(b), rnd);
  snprintf(rt->base_id, sizeof(rt->base_id), "%s-%d-%s", host, (int)getpid(), rnd);
  h_queue_ready_key(def->queue, rt->ready_key, sizeof(rt->ready_key));
  h_queue_delayed_key(def->queue, rt->delayed_key, sizeof(rt->delayed_key));
  h_queue_dlq_key(def->queue, rt->dlq_key, sizeof(rt->dlq_key));
  channel_settings(rt);
  if (h_flood_parse(cfg, &rt->flood, error) != H_OK) {
    return H_ERR_INVALID;
  }
  rt->nthreads = opts->concurrency > 0 ? opts->concurrency : cfg->worker_concurrency;
  atomic_store(&rt->jobs_left, opts->max_jobs > 0 ? opts->max_jobs : LONG_MAX);
  rt->metrics = h_wmetrics_create(rt->channel);
  h_rt_thread_init(rt, &rt->maint, -1, "m");
  h_rt_thread_init(rt, &rt->hb, -2, "hb");
  return H_OK;
}

static void rt_free(struct h_rt *rt) {
  for (int i = 0; i < rt->nthreads && rt->threads != NULL; i++) {
    h_rt_thread_close(&rt->threads[i]);
  }
  free(rt->threads);
  h_rt_thread_close(&rt->maint);
  h_rt_thread_close(&rt->hb);
  h_wmetrics_destroy(rt->metrics);
  h_flood_free(&rt->flood);
  h_provider_set_destroy(&rt->set);
}

static bool all_finished(struct h_rt *rt) {
  for (int i = 0; i < rt->nthreads; i++) {
    if (!atomic_load(&rt->threads[i].finished)) {
      return false;
    }
  }
  return true;
}

/* Waits for the workers to finish (--once, --max-jobs) or for signals. Returns 0
 * after a complete drain, 1 when the drain deadline passed. */
static int wait_loop(struct h_rt *rt, const sigset_t *signals) {
  long long deadline = 0;
  for (;;) {
    struct timespec ts = {0, 100 * 1000000L};
    int sig = sigtimedwait(signals, NULL, &ts);
    if (sig > 0 && atomic_load(&rt->stop) && deadline != 0) {
      h_log_warning("%s: second signal (%d): exiting now", rt->base_id, sig);
      fflush(stderr);
      _exit(128 + sig);
    }
    if (sig > 0) {
      atomic_store(&rt->stop, true);
      deadline = h_rt_now_ms() + (long long)rt->cfg->shutdown_timeout_s * 1000;
      h_log_info("%s: signal %d: draining (no new jobs; in-flight ones finish within %d s)",
                 rt->base_id, sig, rt->cfg->shutdown_timeout_s);
    }
    if (all_finished(rt)) {
      return 0;
    }
    if (deadline != 0 && h_rt_now_ms() > deadline) {
      atomic_store(&rt->hard_stop, true);
      if (h_rt_now_ms() > deadline + 2000) {
        return 1;
      }
    }
  }
}

/* After a clean drain: our processing lists back to the ready list (they hold
 * nothing but ids we did not start), our heartbeats deleted. */
static void release_all(struct h_rt *rt) {
  size_t returned = 0;
  for (int i = 0; i < rt->nthreads; i++) {
    if (h_rt_release(&rt->maint, rt->threads[i].proc_key, rt->threads[i].hb_key) != H_OK) {
      h_log_warning("%s: could not release %s (Redis unavailable): the reaper will",
                    rt->base_id, rt->threads[i].proc_key);
    }
  }
  const char *llen[] = {"LLEN", rt->maint.proc_key};
  redisReply *reply = NULL;
  if (h_rt_redis(&rt->maint, &reply, 2, llen, rt->cfg->redis_timeout_ms) == H_OK &&
      reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
    const char *del[] = {"DEL", rt->maint.hb_key};
    (void)h_rt_redis(&rt->maint, NULL, 2, del, rt->cfg->redis_timeout_ms);
  }
  freeReplyObject(reply);
  returned = h_wmetrics_count(rt->metrics, H_OUT_RETURNED);
  h_log_info("%s: stopped: %llu sent, %llu retried, %llu failed, %llu dead, %zu returned",
             rt->base_id, h_wmetrics_count(rt->metrics, H_OUT_SENT),
             h_wmetrics_count(rt->metrics, H_OUT_RETRY),
             h_wmetrics_count(rt->metrics, H_OUT_FAILED),
             h_wmetrics_count(rt->metrics, H_OUT_DEAD), returned);
}

static void start_threads(struct h_rt *rt, pthread_t *maint, pthread_t *hb) {
  rt->threads = h_calloc((size_t)rt->nthreads, sizeof(struct h_wthread));
  for (int i = 0; i < rt->nthreads; i++) {
    char suffix[16];
    snprintf(suffix, sizeof(suffix), "%d", i);
    h_rt_thread_init(rt, &rt->threads[i], i, suffix);
    /* the fetch connection waits in BLMOVE: its socket timeout must outlast it */
    rt->threads[i].redis.target.timeout_ms += rt->cfg->worker_block_ms;
  }
  pthread_create(hb, NULL, h_rt_heartbeat_thread, rt);
  pthread_create(maint, NULL, h_rt_maint_thread, rt);
  for (int i = 0; i < rt->nthreads; i++) {
    pthread_create(&rt->threads[i].tid, NULL, h_rt_worker_thread, &rt->threads[i]);
  }
}

static int run(struct h_rt *rt, const sigset_t *signals) {
  if (rt->opts->dry_run) {
    return h_rt_dry_run(rt);
  }
  if (rt->opts->once) { /* what is due counts as ready */
    size_t n = 0;
    (void)h_sweeper_promote_due(&rt->maint.redis, rt->def->queue, h_rt_wall(), 100000, NULL, &n);
  }
  char names[80];
  h_provider_set_names(&rt->set, names, sizeof(names));
  h_log_info("%s: %s worker %s (commit %s, %s build): %d thread(s) on %s, provider%s %s%s%s",
             rt->base_id, rt->def->program, h_version_number, h_version_commit,
             h_version_build_type, rt->nthreads, rt->ready_key, rt->set.n > 1 ? "s" : "", names,
             rt->set.breakers ? " (circuit breakers on)" : "", rt->opts->once ? ", --once" : "");
  pthread_t maint, hb;
  start_threads(rt, &maint, &hb);
  int rc = wait_loop(rt, signals);
  if (rc != 0) {
    h_log_error("%s: drain deadline passed with jobs in flight: exiting; the reaper recovers "
                "them once our heartbeats expire", rt->base_id);
    fflush(stderr);
    _exit(1);
  }
  for (int i = 0; i < rt->nthreads; i++) {
    pthread_join(rt->threads[i].tid, NULL);
  }
  atomic_store(&rt->maint_stop, true);
  pthread_join(maint, NULL);
  pthread_join(hb, NULL);
  release_all(rt);
  return 0;
}

/* The channel's providers into rt->set; false (with a message) on a bad setting. */
static bool create_providers(struct h_rt *rt) {
  char *error = NULL;
  memset(&rt->set, 0, sizeof(rt->set));
  if (rt->def->create(rt->cfg, &rt->set, &error) != H_OK || rt->set.n == 0) {
    fprintf(stderr, "%s: %s\n", rt->def->program, error ? error : "provider setup failed");
    free(error);
    h_provider_set_destroy(&rt->set);
    return false;
  }
  const char *names[H_MAX_PROVIDERS];
  for (int i = 0; i < rt->set.n; i++) {
    names[i] = rt->set.providers[i]->name;
  }
  h_wmetrics_providers(rt->metrics, names, rt->set.n, rt->set.breakers);
  return true;
}

/* Provider, signals and metrics, then the worker itself. */
static int run_worker(struct h_rt *rt) {
  if (!create_providers(rt)) {
    return EXIT_CONFIG;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, NULL); /* every thread inherits the mask */
  int port = rt->opts->metrics_port >= 0 ? rt->opts->metrics_port : rt->cfg->worker_metrics_port;
  if (port > 0 && !rt->opts->dry_run) {
    int bound = 0;
    if (h_wmetrics_serve_start(rt->metrics, port, &bound) != H_OK) {
      return EXIT_FAILURE;
    }
    rt->metrics_on = true;
    h_log_info("%s: metrics on http://127.0.0.1:%d/metrics", rt->base_id, bound);
  }
  return run(rt, &signals);
}

/* --check-config: the provider's settings as run_worker would take them, then nothing. */
static int check_config(struct h_rt *rt) {
  if (!create_providers(rt)) {
    return EXIT_CONFIG;
  }
  char names[80];
  h_provider_set_names(&rt->set, names, sizeof(names));
  printf("%s: configuration ok (provider%s %s)\n", rt->def->program, rt->set.n > 1 ? "s" : "",
         names);
  return EXIT_SUCCESS;
}

static int dispatch(const struct h_worker_def *def, const struct h_config *cfg,
                    const struct h_worker_opts *opts) {
  struct h_rt rt;
  char *error = NULL;
  if (rt_init(&rt, def, cfg, opts, &error) != H_OK) {
    fprintf(stderr, "%s: %s\n", def->program, error);
    free(error);
    return EXIT_CONFIG;
  }
  int rc;
  switch (opts->cmd) {
  case H_CMD_CHECK_CONFIG:
    rc = check_config(&rt);
    break;
  case H_CMD_STATS:
    rc = h_rt_stats(&rt);
    break;
  case H_CMD_DLQ_LIST:
  case H_CMD_DLQ_REPLAY:
  case H_CMD_DLQ_PURGE:
    rc = h_rt_dlq(&rt);
    break;
  default:
    rc = run_worker(&rt);
    break;
  }
  rt_free(&rt);
  return rc;
}

int h_worker_main(const struct h_worker_def *def, int argc, char **argv) {
  h_alloc_install();
  signal(SIGPIPE, SIG_IGN);
  struct h_worker_opts opts;
  char err[256] = "";
  if (h_cli_parse(argc, argv, &opts, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s: %s\n\n", def->program, err);
    h_cli_usage(stderr, def->program);
    return EXIT_USAGE;
  }
  if (opts.cmd == H_CMD_HELP || opts.cmd == H_CMD_VERSION) {
    if (opts.cmd == H_CMD_HELP) {
      h_cli_usage(stdout, def->program);
    } else {
      h_version_print(stdout, def->program);
    }
    return EXIT_SUCCESS;
  }
  struct h_config cfg;
  char *error = NULL;
  if (h_config_load(&cfg, &error) != H_OK) {
    fprintf(stderr, "%s: configuration error: %s\n", def->program, error);
    free(error);
    return EXIT_CONFIG;
  }
  if (opts.in_flight > 0) {
    cfg.worker_in_flight = opts.in_flight; /* the flag wins, and providers read cfg */
  }
  h_log_init(def->program, opts.log_level != NULL ? opts.log_level : cfg.log_level);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = dispatch(def, &cfg, &opts);
  curl_global_cleanup();
  h_config_free(&cfg);
  h_log_close();
  return rc;
}
