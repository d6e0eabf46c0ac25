/* pg_listen.c - see pg_listen.h. */
#include "store/pg_listen.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 2000

struct h_pg_listen {
  struct h_pg_listen_options opt;
  char listen_sql[96];
  pthread_t thread;
  atomic_bool stop;
};

static bool plain_identifier(const char *s) {
  if (s == NULL || *s == '\0' || strlen(s) > 63 || !((*s >= 'a' && *s <= 'z') || *s == '_')) {
    return false;
  }
  for (; *s != '\0'; s++) {
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_')) {
      return false;
    }
  }
  return true;
}

/* A fresh connection with the LISTEN in force; NULL when either failed. */
static PGconn *subscribe(struct h_pg_listen *l) {
  PGconn *c = NULL;
  if (h_db_connect(&l->opt.db, &c) != H_OK) {
    return NULL;
  }
  PGresult *res = PQexec(c, l->listen_sql);
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  if (!ok) {
    h_log_warning("pg_listen: %s failed: %s", l->listen_sql, PQerrorMessage(c));
  }
  PQclear(res);
  if (!ok) {
    PQfinish(c);
    return NULL;
  }
  return c;
}

/* Hands over the notices that arrived on c; false when the connection broke. */
static bool deliver(struct h_pg_listen *l, PGconn *c) {
  if (PQconsumeInput(c) == 0) {
    return false;
  }
  PGnotify *n;
  while ((n = PQnotifies(c)) != NULL) {
    l->opt.on_notice(l->opt.cls, n->extra);
    PQfreemem(n);
  }
  return PQstatus(c) == CONNECTION_OK;
}

static bool ping(PGconn *c) {
  PGresult *res = PQexec(c, "SELECT 1");
  bool ok = PQresultStatus(res) == PGRES_TUPLES_OK;
  PQclear(res);
  return ok;
}

/* Waits for notices on c until the connection breaks or the thread is stopped. */
static void listen_on(struct h_pg_listen *l, PGconn *c) {
  int idle_ms = 0;
  while (!atomic_load(&l->stop)) {
    struct pollfd p = {.fd = PQsocket(c), .events = POLLIN};
    int rc = poll(&p, 1, H_PG_LISTEN_POLL_MS);
    if (rc < 0 && errno != EINTR) {
      return;
    }
    if (rc > 0) {
      if (!deliver(l, c)) {
        return;
      }
      idle_ms = 0;
      continue;
    }
    idle_ms += rc == 0 ? H_PG_LISTEN_POLL_MS : 0;
    if (idle_ms >= H_PG_LISTEN_PING_MS) {
      if (!ping(c) || !deliver(l, c)) {
        return;
      }
      idle_ms = 0;
    }
  }
}

static void pause_ms(struct h_pg_listen *l, int ms) {
  for (int waited = 0; waited < ms && !atomic_load(&l->stop); waited += 50) {
    nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
  }
}

static void *listen_main(void *arg) {
  struct h_pg_listen *l = arg;
  pthread_setname_np(pthread_self(), "pg-listen"); /* top -H, perf --sort comm */
  int backoff = BACKOFF_FIRST_MS;
  while (!atomic_load(&l->stop)) {
    PGconn *c = subscribe(l);
    if (c != NULL) {
      h_log_info("pg_listen: listening on %s", l->opt.channel);
      backoff = BACKOFF_FIRST_MS;
      l->opt.on_state(l->opt.cls, true);
      listen_on(l, c);
      l->opt.on_state(l->opt.cls, false);
      PQfinish(c);
      if (!atomic_load(&l->stop)) {
        h_log_warning("pg_listen: connection listening on %s lost; reconnecting",
                      l->opt.channel);
      }
    }
    pause_ms(l, backoff);
    backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
  }
  return NULL;
}

struct h_pg_listen *h_pg_listen_start(const struct h_pg_listen_options *opt) {
  if (!plain_identifier(opt->channel)) {
    return NULL;
  }
  struct h_pg_listen *l = h_calloc(1, sizeof(*l));
  l->opt = *opt;
  snprintf(l->listen_sql, sizeof(l->listen_sql), "LISTEN %s", opt->channel);
  atomic_init(&l->stop, false);
  if (pthread_create(&l->thread, NULL, listen_main, l) != 0) {
    free(l);
    return NULL;
  }
  return l;
}

void h_pg_listen_stop(struct h_pg_listen *l) {
  if (l == NULL) {
    return;
  }
  atomic_store(&l->stop, true);
  pthread_join(l->thread, NULL);
  free(l);
}
