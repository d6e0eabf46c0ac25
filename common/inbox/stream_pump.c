/* stream_pump.c - the hub's pump thread: reads the changed users' feeds from PostgreSQL and
 * queues their events, unread counts, resets, heartbeats and session ends (stream_hub.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "inbox/stream_hub_impl.h"
#include "inbox/stream_repo.h"
#include "store/db.h"

#define ROUND_USERS 500 /* users read per statement */

struct round {
  int n;
  char (*ids)[37];
  long long *after;
};

static void round_free(struct round *r) {
  free(r->ids);
  free(r->after);
  memset(r, 0, sizeof(*r));
}

/* Lowest position among u's open streams; -1 when none is open. */
static long long lowest(const struct h_stream_user *u) {
  long long low = -1;
  for (struct h_stream *st = u->streams; st != NULL; st = st->next) {
    if (!atomic_load(&st->gone) && !h_stream_ended(st) && (low < 0 || st->last_seq < low)) {
      low = st->last_seq;
    }
  }
  return low;
}

/* Takes up to ROUND_USERS users off the hub's dirty list (auth: the auth list) with the
 * lowest position of their open streams; hub->mu held. */
static void collect(struct h_stream_hub *hub, struct round *r, bool auth) {
  r->ids = h_malloc(ROUND_USERS * sizeof(*r->ids));
  r->after = h_malloc(ROUND_USERS * sizeof(*r->after));
  r->n = 0;
  struct h_stream_user **list = auth ? &hub->auth_list : &hub->dirty_list;
  while (*list != NULL && r->n < ROUND_USERS) {
    struct h_stream_user *u = *list;
    if (auth) {
      *list = u->auth_next;
      u->auth_dirty = false;
    } else {
      *list = u->dirty_next;
      u->dirty = false;
    }
    long long low = lowest(u);
    if (low >= 0) {
      snprintf(r->ids[r->n], 37, "%s", u->id);
      r->after[r->n++] = low;
    }
  }
  if (auth) {
    hub->any_auth_dirty = *list != NULL;
  } else {
    hub->any_dirty = *list != NULL;
  }
}

static void remark(struct h_stream_hub *hub, const struct round *r) {
  for (int i = 0; i < r->n; i++) {
    struct h_stream_user *u = h_stream_user_find(hub, r->ids[i]);
    if (u != NULL) {
      h_stream_mark(hub, u, false);
    }
  }
}

static const char **id_list(const struct round *r) {
  const char **ids = h_malloc((size_t)(r->n > 0 ? r->n : 1) * sizeof(*ids));
  for (int i = 0; i < r->n; i++) {
    ids[i] = r->ids[i];
  }
  return ids;
}

/* The SSE text of row i for a stream at position pos (new string, caller frees), NULL when the
 * stream has nothing to show for it (created and deleted since pos). */
static char *event_text(PGresult *res, int i, long long pos, size_t *len) {
  long long seq = atoll(PQgetvalue(res, i, H_STREAM_COL_SEQ));
  long long first = atoll(PQgetvalue(res, i, H_STREAM_COL_FIRST));
  bool deleted = PQgetvalue(res, i, H_STREAM_COL_DELETED)[0] == 't';
  const char *item = PQgetvalue(res, i, H_STREAM_COL_ITEM);
  if (first > pos) {
    return deleted ? NULL : h_sse_event(seq, "notification.created", item, len);
  }
  json_t *o = json_loads(item, 0, NULL);
  json_t *d = json_pack("{sOsOsOsbsO}", "id", json_object_get(o, "id"), "read",
                        json_object_get(o, "read"), "read_at", json_object_get(o, "read_at"),
                        "deleted", deleted, "archived", json_object_get(o, "archived"));
  char *data = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
  char *text = data != NULL ? h_sse_event(seq, "notification.updated", data, len) : NULL;
  free(data);
  json_decref(d);
  json_decref(o);
  return text;
}

/* Queues rows [from, to) of res (one user's, ordered) on the streams of u positioned at or
 * after after (a stream opened meanwhile further back waits for its own read); full: the read
 * stopped at its limit. hub->mu held. */
static void deliver_user(struct h_stream_hub *hub, struct h_stream_user *u, PGresult *res,
                         int from, int to, long long after, bool full) {
  for (struct h_stream *st = u->streams; st != NULL; st = st->next) {
    if (atomic_load(&st->gone) || h_stream_ended(st) || st->last_seq < after) {
      continue;
    }
    if (full && st->last_seq == after) { /* beyond the replay window */
      st->need_reset = true;
      continue;
    }
    for (int i = from; i < to; i++) {
      long long seq = atoll(PQgetvalue(res, i, H_STREAM_COL_SEQ));
      if (seq <= st->last_seq) {
        continue;
      }
      size_t n = 0;
      char *text = event_text(res, i, st->last_seq, &n);
      bool ok = text == NULL || h_stream_push(st, text, n);
      free(text);
      if (!ok) {
        break;
      }
      st->last_seq = seq;
      st->need_count = true;
    }
  }
  if (full) { /* the rest of the changes in the next round */
    h_stream_mark(hub, u, false);
  }
}

/* Queues the rows of res (ordered by user) on the streams of r's users; hub->mu held. */
static void deliver(struct h_stream_hub *hub, const struct round *r, PGresult *res,
                    int limit) {
  int rows = PQntuples(res);
  for (int i = 0; i < rows;) {
    const char *uid = PQgetvalue(res, i, H_STREAM_COL_USER);
    int j = i;
    while (j < rows && strcmp(PQgetvalue(res, j, H_STREAM_COL_USER), uid) == 0) {
      j++;
    }
    struct h_stream_user *u = h_stream_user_find(hub, uid);
    long long after = -1;
    for (int k = 0; k < r->n; k++) {
      if (strcmp(r->ids[k], uid) == 0) {
        after = r->after[k];
      }
    }
    if (u != NULL && after >= 0) {
      deliver_user(hub, u, res, i, j, after, j - i >= limit);
    }
    i = j;
  }
}

/* Queues unread_count on u's streams that wait for one, when it differs from the last sent;
 * hub->mu held. */
static void send_count(struct h_stream_user *u, long unread) {
  for (struct h_stream *st = u->streams; st != NULL; st = st->next) {
    if (!st->need_count || atomic_load(&st->gone) || st->need_reset) {
      continue;
    }
    st->need_count = false;
    if (st->unread == unread) {
      continue;
    }
    char data[48];
    snprintf(data, sizeof(data), "{\"unread\":%ld}", unread);
    size_t n = 0;
    char *text = h_sse_event(st->last_seq, "unread_count", data, &n);
    if (h_stream_push(st, text, n)) {
      st->unread = unread;
    }
    free(text);
  }
}

/* stream.reset on u's streams past the replay window, positioned at head; hub->mu held. */
static void send_reset(struct h_stream_user *u, long long head, long unread) {
  for (struct h_stream *st = u->streams; st != NULL; st = st->next) {
    if (!st->need_reset || atomic_load(&st->gone)) {
      continue;
    }
    st->need_reset = false;
    st->last_seq = head;
    size_t n = 0;
    char *text = h_sse_event(head, "stream.reset", "{\"reason\":\"replay_window\"}", &n);
    h_stream_push(st, text, n);
    free(text);
    st->need_count = true;
  }
  send_count(u, unread);
}

static bool wants(const struct h_stream_user *u, bool reset) {
  for (struct h_stream *st = u->streams; st != NULL; st = st->next) {
    if (reset ? st->need_reset : st->need_count) {
      return true;
    }
  }
  return false;
}

/* The users of r that still want a reset, one by one (rare), then counts, in one read. */
static void follow_up(struct h_stream_hub *hub, PGconn *conn, const struct round *r) {
  struct round c = {.ids = h_malloc((size_t)(r->n > 0 ? r->n : 1) * sizeof(*r->ids))};
  for (int i = 0; i < r->n; i++) {
    pthread_mutex_lock(&hub->mu);
    struct h_stream_user *u = h_stream_user_find(hub, r->ids[i]);
    bool reset = u != NULL && wants(u, true);
    bool count = u != NULL && wants(u, false);
    pthread_mutex_unlock(&hub->mu);
    long long head = 0;
    long unread = 0;
    if (reset && h_stream_repo_head(conn, r->ids[i], &head, &unread) == H_OK) {
      pthread_mutex_lock(&hub->mu);
      if ((u = h_stream_user_find(hub, r->ids[i])) != NULL) {
        send_reset(u, head, unread);
      }
      pthread_mutex_unlock(&hub->mu);
    } else if (count) {
      snprintf(c.ids[c.n++], 37, "%s", r->ids[i]);
    }
  }
  const char **ids = id_list(&c);
  PGresult *res = NULL;
  if (c.n > 0 && h_stream_repo_unread(conn, c.n, ids, &res) == H_OK) {
    pthread_mutex_lock(&hub->mu);
    for (int i = 0; i < PQntuples(res); i++) {
      struct h_stream_user *u = h_stream_user_find(hub, PQgetvalue(res, i, 0));
      if (u != NULL) {
        send_count(u, atol(PQgetvalue(res, i, 1)));
      }
    }
    pthread_mutex_unlock(&hub->mu);
    PQclear(res);
  }
  free(ids);
  round_free(&c);
}

/* One round of changed feeds; false when PostgreSQL failed (the users stay marked). */
static bool read_changes(struct h_stream_hub *hub, PGconn *conn) {
  struct round r = {0};
  pthread_mutex_lock(&hub->mu);
  collect(hub, &r, false);
  pthread_mutex_unlock(&hub->mu);
  int limit = hub->app->cfg->stream_replay_window + 1;
  const char **ids = id_list(&r);
  PGresult *res = NULL;
  h_result rc = r.n > 0 ? h_stream_repo_changes(conn, r.n, ids, r.after, limit, &res) : H_OK;
  pthread_mutex_lock(&hub->mu);
  if (rc == H_OK && res != NULL) {
    deliver(hub, &r, res, limit);
  } else if (rc != H_OK) {
    remark(hub, &r);
  }
  pthread_mutex_unlock(&hub->mu);
  if (res != NULL) {
    PQclear(res);
  }
  if (rc == H_OK) {
    follow_up(hub, conn, &r);
  }
  free(ids);
  round_free(&r);
  return rc == H_OK;
}

/* Ends u's streams whose token epoch is no longer the account's; hub->mu held. */
static void end_revoked(struct h_stream_user *u, long epoch) {
  for (struct h_stream *st = u->streams; st != NULL; st = st->next) {
    if (st->grant.epoch != epoch) {
      h_stream_finish(st, "session.expired", epoch < 0 ? "{\"reason\":\"account_disabled\"}"
                                                       : "{\"reason\":\"session_revoked\"}");
    }
  }
}

static void mark_auth(struct h_stream_user *u, void *hub) { h_stream_mark(hub, u, true); }

/* Checks the epochs of the marked users (every user with all); false on a database error. */
static bool check_accounts(struct h_stream_hub *hub, PGconn *conn, bool all) {
  if (all) {
    pthread_mutex_lock(&hub->mu);
    h_stream_each_user(hub, mark_auth, hub);
    pthread_mutex_unlock(&hub->mu);
  }
  bool more = true;
  while (more) {
    struct round r = {0};
    pthread_mutex_lock(&hub->mu);
    collect(hub, &r, true);
    more = hub->any_auth_dirty;
    pthread_mutex_unlock(&hub->mu);
    const char **ids = id_list(&r);
    PGresult *res = NULL;
    h_result rc = r.n > 0 ? h_stream_repo_epochs(conn, r.n, ids, &res) : H_OK;
    pthread_mutex_lock(&hub->mu);
    for (int i = 0; res != NULL && i < PQntuples(res); i++) {
      struct h_stream_user *u = h_stream_user_find(hub, PQgetvalue(res, i, 0));
      if (u != NULL) {
        end_revoked(u, atol(PQgetvalue(res, i, 1)));
      }
    }
    pthread_mutex_unlock(&hub->mu);
    if (res != NULL) {
      PQclear(res);
    }
    free(ids);
    round_free(&r);
    if (rc != H_OK) {
      return false;
    }
  }
  return true;
}

struct clock {
  long long now_ms;
  long long now_s;
  int heartbeat_ms;
};

/* Heartbeats that are due and the ends of lapsed grants, on u's streams; hub->mu held. */
static void tick_user(struct h_stream_user *u, void *arg) {
  const struct clock *c = arg;
  static const char hb[] = ": hb\n\n";
  for (struct h_stream *st = u->streams; st != NULL; st = st->next) {
    if (atomic_load(&st->gone)) {
      continue;
    }
    if (st->grant.expires <= c->now_s) {
      h_stream_finish(st, "session.expired", "{\"reason\":\"token_expired\"}");
    } else if (st->next_hb_ms <= c->now_ms) {
      h_stream_push(st, hb, sizeof(hb) - 1);
      st->next_hb_ms = c->now_ms + c->heartbeat_ms;
    }
  }
}

/* Waits until something is marked (when heed_marks) or released, until_ms or the stop;
 * returns false when stopping. */
static bool wait_work(struct h_stream_hub *hub, long long until_ms, bool heed_marks) {
  pthread_mutex_lock(&hub->mu);
  while (!atomic_load(&hub->stop) && (!heed_marks || (!hub->any_dirty && !hub->any_auth_dirty)) &&
         atomic_load(&hub->gone) == 0 && h_stream_now_ms() < until_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long ms = until_ms - h_stream_now_ms();
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&hub->cv, &hub->mu, &ts);
  }
  if (atomic_load(&hub->gone) > 0) {
    h_stream_sweep(hub);
  }
  pthread_mutex_unlock(&hub->mu);
  return !atomic_load(&hub->stop);
}

/* One pass over the marks with a pooled connection; false after a database error. */
static bool work(struct h_stream_hub *hub, bool all_accounts) {
  PGconn *conn = NULL;
  if (h_db_acquire(hub->app->db, &conn) != H_OK) {
    return false;
  }
  bool ok = true;
  bool more = true;
  while (ok && more) {
    ok = read_changes(hub, conn);
    pthread_mutex_lock(&hub->mu);
    more = hub->any_dirty;
    bool accounts = hub->any_auth_dirty;
    pthread_mutex_unlock(&hub->mu);
    if (ok && (accounts || all_accounts)) {
      ok = check_accounts(hub, conn, all_accounts);
      all_accounts = false;
    }
  }
  h_db_release(hub->app->db, conn);
  return ok;
}

void *h_stream_pump_main(void *arg) {
  struct h_stream_hub *hub = arg;
  pthread_setname_np(pthread_self(), "stream-pump"); /* top -H, perf --sort comm */
  const struct h_config *cfg = hub->app->cfg;
  long long next_tick = 0, next_accounts = h_stream_now_ms() + cfg->stream_auth_check_s * 1000LL;
  long long retry_at = 0;
  for (;;) {
    bool heed = h_stream_now_ms() >= retry_at;
    if (!wait_work(hub, heed || next_tick < retry_at ? next_tick : retry_at, heed)) {
      break;
    }
    long long now = h_stream_now_ms();
    pthread_mutex_lock(&hub->mu);
    bool marked = hub->any_dirty || hub->any_auth_dirty;
    pthread_mutex_unlock(&hub->mu);
    bool all_accounts = now >= next_accounts;
    if ((marked || all_accounts) && now >= retry_at) {
      if (all_accounts) {
        next_accounts = now + cfg->stream_auth_check_s * 1000LL;
      }
      if (!work(hub, all_accounts)) {
        h_log_warning("stream pump: PostgreSQL unavailable, streams wait");
        retry_at = now + 1000; /* the marks stay; try again in a second */
      }
    }
    if (now >= next_tick) {
      struct clock c = {now, (long long)time(NULL), cfg->stream_heartbeat_s * 1000};
      pthread_mutex_lock(&hub->mu);
      h_stream_each_user(hub, tick_user, &c);
      pthread_mutex_unlock(&hub->mu);
      next_tick = now + 1000;
    }
  }
  return NULL;
}
