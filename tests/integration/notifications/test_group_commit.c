/* Integration: the group commit of POST /api/v1/notifications (common/store/group_commit.h).
 *   - the engine alone: a batch with one failing item is retried one by one so only that
 *     item fails; SIGTERM's drain commits and answers everything queued; a committed
 *     batch is answered off the committer, which writes the next batch meanwhile; with a
 *     prepare step the next batch is prepared while one is written;
 *   - many concurrent POSTs share transactions, each answered 202 only with its rows
 *     (notification, deliveries, audit row) committed and its ids in Redis;
 *   - a recipient deleted while its request waits in a batch fails alone (422);
 *   - the batch's read counts a user's devices only for the sends that may go by push;
 *   - Idempotency-Key records written by a batch replay the original response; a key is
 *     claimed in the batch's statement (held -> 409, stale or expired -> taken over, the
 *     same key twice in a batch -> one send, the other answered its response);
 *   - HERALD_GROUP_COMMIT=false still sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http/park.h"
#include "http/server.h"
#include "store/group_commit.h"
#include "store/idempotency.h"
#include "notifications/notification_service.h"
#include "notifications/delivery_plan.h"
#include "notif_support.h"

static struct th_server srv;
static char *admin;

/* Starts the API with HERALD_GROUP_COMMIT=on, HERALD_GROUP_COMMIT_WAIT_US=wait_us and
 * HERALD_DB_PREPARED_STATEMENTS=prepared (the other notification tests run with the default,
 * false). */
static void start(const char *on, const char *wait_us, const char *prepared) {
  static int keep = -1; /* a value set by the caller (PgBouncer runs: false) is kept */
  if (keep < 0) {
    keep = getenv("HERALD_DB_PREPARED_STATEMENTS") != NULL;
  }
  if (!keep) {
    setenv("HERALD_DB_PREPARED_STATEMENTS", prepared, 1);
  }
  setenv("HERALD_AUTH_RATE_LIMIT", "100000", 1);
  setenv("HERALD_SWEEP_INTERVAL_S", "0", 1);
  setenv("HERALD_GROUP_COMMIT", on, 1);
  setenv("HERALD_GROUP_COMMIT_WAIT_US", wait_us, 1);
  th_start(&srv);
  admin = th_admin_token(&srv, NULL);
}

static void stop(void) {
  free(admin);
  admin = NULL;
  th_stop(&srv);
}


/* ---- the engine alone, with a fake write ---- */

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}


struct fake {
  pthread_mutex_t mu;
  int written;   /* items of committed transactions */
  int largest;   /* largest batch seen */
  int pushed;    /* items given to after_commit */
  long slow_after_ms; /* the next after_commit takes this long (then 0) */
  bool in_after;      /* an after_commit is running */
  int overlapped;     /* writes that ran while an after_commit was running */
  long slow_write_ms; /* the next write takes this long (then 0) */
  bool in_write;      /* a write is running */
  int prepared;       /* items given to prepare */
  int prepared_in_write; /* prepares that ran while a write was running */
  bool with_prepare;  /* the engine has fake_prepare: every write gets its batch's state */
  int states;         /* states fake_prepare made */
  int released;       /* and the engine released */
  int bad_states;     /* writes not given the state of their own batch's prepare */
};

/* What fake_prepare leaves for the write of its batch. */
struct fake_state {
  int n;
  struct h_gc_item *first;
};

/* "bad" fails the whole batch; "refused" is refused alone (its result set, not written), and
 * so is an item prepare refused. */
static h_result fake_write(PGconn *conn, struct h_gc_item *const *items, int n, void *batch,
                           void *ctx) {
  struct fake *f = ctx;
  const struct fake_state *st = batch;
  int refused = 0;
  pthread_mutex_lock(&f->mu);
  f->bad_states += f->with_prepare ? st == NULL || st->n != n || st->first != items[0]
                                   : st != NULL;
  long slow = f->slow_write_ms;
  f->slow_write_ms = 0;
  f->in_write = slow > 0;
  pthread_mutex_unlock(&f->mu);
  sleep_ms(slow);
  pthread_mutex_lock(&f->mu);
  f->in_write = false;
  pthread_mutex_unlock(&f->mu);
  for (int i = 0; i < n; i++) {
    if (items[i]->result != H_OK) {
      refused++;
      continue;
    }
    if (strcmp(items[i]->arg, "bad") == 0) {
      return H_ERR_CONFLICT;
    }
    if (strcmp(items[i]->arg, "refused") == 0) {
      items[i]->result = H_ERR_UNPROCESSABLE;
      refused++;
    }
  }
  h_result r = h_db_exec(conn, "SELECT 1", 0, NULL, NULL);
  pthread_mutex_lock(&f->mu);
  f->overlapped += f->in_after;
  f->written += n - refused;
  f->largest = n > f->largest ? n : f->largest;
  pthread_mutex_unlock(&f->mu);
  return r;
}

static void fake_after(struct h_gc_item *const *items, int n, void *ctx) {
  struct fake *f = ctx;
  for (int i = 0; i < n; i++) {
    assert_int_equal(items[i]->result, H_OK);
  }
  pthread_mutex_lock(&f->mu);
  long slow = f->slow_after_ms;
  f->slow_after_ms = 0;
  f->in_after = true;
  pthread_mutex_unlock(&f->mu);
  sleep_ms(slow);
  pthread_mutex_lock(&f->mu);
  f->in_after = false;
  f->pushed += n;
  pthread_mutex_unlock(&f->mu);
}

/* "badprep" fails the batch's prepare (after it made its state, which the engine must
 * release then too); "early" is refused alone by it. */
static h_result fake_prepare(PGconn *conn, struct h_gc_item *const *items, int n, void *ctx,
                             void **batch) {
  struct fake *f = ctx;
  struct fake_state *st = malloc(sizeof(*st));
  *st = (struct fake_state){n, items[0]};
  *batch = st;
  pthread_mutex_lock(&f->mu);
  f->states++;
  pthread_mutex_unlock(&f->mu);
  for (int i = 0; i < n; i++) {
    if (strcmp(items[i]->arg, "badprep") == 0) {
      return H_ERR_CONFLICT;
    }
    if (strcmp(items[i]->arg, "early") == 0) {
      items[i]->result = H_ERR_UNPROCESSABLE;
    }
  }
  h_result r = h_db_exec(conn, "SELECT 1", 0, NULL, NULL);
  pthread_mutex_lock(&f->mu);
  f->prepared += n;
  f->prepared_in_write += f->in_write;
  pthread_mutex_unlock(&f->mu);
  return r;
}

static void fake_release(void *batch, void *ctx) {
  struct fake *f = ctx;
  free(batch);
  pthread_mutex_lock(&f->mu);
  f->released++;
  pthread_mutex_unlock(&f->mu);
}

static const struct h_gc_ops fake_ops = {fake_write, fake_after, false, NULL, NULL};
static const struct h_gc_ops fake_prepared_ops = {fake_write, fake_after, false, fake_prepare,
                                                  fake_release};

/* After h_gc_destroy: every write had its own batch's state (or none without a prepare),
 * and every state prepare made was released once. */
static void assert_states_released(struct fake *f) {
  assert_int_equal(f->bad_states, 0);
  assert_int_equal(f->released, f->states);
}

struct submitter {
  struct h_gc *gc;
  struct h_gc_item item;
  h_result r;
};

static void *submit(void *arg) {
  struct submitter *s = arg;
  s->r = h_gc_submit(s->gc, &s->item);
  return NULL;
}

/* Submits n items (item bad_at is "bad"), sleeps pause_ms, then destroys the engine when
 * destroy is set; checks the outcome of each item. */
static void run_engine(struct h_gc *gc, struct fake *f, int n, int bad_at, long pause_ms,
                       bool destroy) {
  pthread_t t[16];
  struct submitter s[16];
  for (int i = 0; i < n; i++) {
    s[i] = (struct submitter){.gc = gc, .item = {.arg = i == bad_at ? "bad" : "good"}};
    pthread_create(&t[i], NULL, submit, &s[i]);
  }
  sleep_ms(pause_ms);
  if (destroy) {
    h_gc_destroy(gc);
  }
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(s[i].r, i == bad_at ? H_ERR_CONFLICT : H_OK);
    assert_int_equal(s[i].item.result, s[i].r);
  }
  pthread_mutex_lock(&f->mu);
  assert_int_equal(f->written, bad_at >= 0 ? n - 1 : n);
  assert_int_equal(f->pushed, f->written);
  pthread_mutex_unlock(&f->mu);
}

static struct h_gc *fake_engine_with(struct fake *f, int wait_us, const struct h_gc_ops *ops) {
  memset(f, 0, sizeof(*f));
  pthread_mutex_init(&f->mu, NULL);
  f->with_prepare = ops->prepare != NULL;
  struct h_gc_options opt = {
    .db = {.url = getenv("HERALD_DATABASE_URL"), .connect_timeout_s = 3},
    .threads = 1, .max_batch = 64, .wait_us = wait_us,
  };
  return h_gc_create(&opt, ops, f);
}

static struct h_gc *fake_engine(struct fake *f, int wait_us) {
  return fake_engine_with(f, wait_us, &fake_ops);
}

static void test_engine_one_bad_item_fails_alone(void **state) {
  (void)state;
  struct fake f;
  struct h_gc *gc = fake_engine(&f, 300000); /* every item lands in one batch */
  run_engine(gc, &f, 8, 3, 0, false);
  long batches, items, retried;
  h_gc_stats(gc, &batches, &items, &retried);
  assert_int_equal(items, 8);
  assert_true(retried >= 1); /* the batch holding "bad" was retried one by one */
  h_gc_destroy(gc);
  assert_states_released(&f); /* without a prepare, no write was given a state */
}

/* Each batch's write time is counted in its bucket: a write the fake holds 30 ms lands above
 * the 25 ms bound, and the times add up to at least that. */
static void test_engine_counts_write_times(void **state) {
  (void)state;
  struct fake f;
  struct h_gc *gc = fake_engine(&f, 0);
  long counts[H_GC_WRITE_BUCKETS + 1];
  double sum = -1;
  h_gc_write_times(gc, counts, &sum);
  for (int b = 0; b <= H_GC_WRITE_BUCKETS; b++) {
    assert_int_equal(counts[b], 0);
  }
  assert_true(sum == 0);
  pthread_mutex_lock(&f.mu);
  f.slow_write_ms = 30;
  pthread_mutex_unlock(&f.mu);
  for (int i = 0; i < 2; i++) { /* the slow write, then a quick one */
    struct submitter s = {.gc = gc, .item = {.arg = "good"}};
    submit(&s);
    assert_int_equal(s.r, H_OK);
  }
  long batches, items, retried;
  h_gc_stats(gc, &batches, &items, &retried);
  assert_int_equal(batches, 2);
  h_gc_write_times(gc, counts, &sum);
  long total = 0, above_25ms = 0;
  for (int b = 0; b <= H_GC_WRITE_BUCKETS; b++) {
    total += counts[b];
    above_25ms += b > 4 ? counts[b] : 0;
  }
  assert_true(h_gc_write_bounds[4] == 0.025);
  assert_int_equal(total, 2);
  assert_true(above_25ms >= 1);
  assert_true(sum >= 0.030 && sum < 10);
  h_gc_destroy(gc);
}

/* Submits n items at once, item odd being odd_arg and the others "good"; checks that item
 * odd got odd_result and the others H_OK, that one batch was retried (or none) and how
 * many were written and given to after_commit. */
static void one_odd_item(struct h_gc *gc, struct fake *f, int odd, const char *odd_arg,
                         h_result odd_result, long retried_batches) {
  enum { N = 6 };
  pthread_t t[N];
  struct submitter s[N];
  for (int i = 0; i < N; i++) {
    s[i] = (struct submitter){.gc = gc, .item = {.arg = (char *)(i == odd ? odd_arg : "good")}};
    pthread_create(&t[i], NULL, submit, &s[i]);
  }
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(s[i].r, i == odd ? odd_result : H_OK);
  }
  long batches, items, retried;
  h_gc_stats(gc, &batches, &items, &retried);
  assert_int_equal(retried, retried_batches);
  assert_int_equal(f->written, N - 1);
  assert_int_equal(f->pushed, N - 1); /* after_commit saw only the written ones */
}

static void test_engine_refused_item_alone_without_retry(void **state) {
  (void)state;
  struct fake f;
  struct h_gc *gc = fake_engine(&f, 300000); /* every item lands in one batch */
  one_odd_item(gc, &f, 2, "refused", H_ERR_UNPROCESSABLE, 0);
  h_gc_destroy(gc);
}

static void test_engine_drains_on_destroy(void **state) {
  (void)state;
  struct fake f;
  /* A long wait: the items are still queued when the engine is destroyed (SIGTERM), and
   * must be committed and answered, not dropped. */
  struct h_gc *gc = fake_engine(&f, 5000000);
  time_t t0 = time(NULL);
  run_engine(gc, &f, 6, -1, 300, true);
  assert_true(time(NULL) - t0 < 4); /* the drain did not wait out the 5 s */
  assert_int_equal(f.largest, 6);
}

/* Waits up to 1 s for *flag (a member of f) to be set. */
static void wait_for(struct fake *f, const bool *flag) {
  for (int i = 0; i < 200; i++) {
    pthread_mutex_lock(&f->mu);
    bool set = *flag;
    pthread_mutex_unlock(&f->mu);
    if (set) {
      return;
    }
    sleep_ms(5);
  }
}

/* A committed batch is answered (after_commit, then its waiters) on the engine's answering
 * thread: the committer writes the next batch meanwhile, and each waiter still returns only
 * after its own batch's after_commit. */
static void test_engine_commits_while_answering(void **state) {
  (void)state;
  struct fake f;
  struct h_gc *gc = fake_engine(&f, 0);
  f.slow_after_ms = 400;
  pthread_t ta, tb;
  struct submitter a = {.gc = gc, .item = {.arg = "good"}};
  struct submitter b = {.gc = gc, .item = {.arg = "good"}};
  pthread_create(&ta, NULL, submit, &a);
  wait_for(&f, &f.in_after); /* a committed, its answer begun */
  pthread_create(&tb, NULL, submit, &b);
  pthread_join(tb, NULL); /* b is answered while a's after_commit still sleeps */
  pthread_mutex_lock(&f.mu);
  int written = f.written, pushed = f.pushed, overlapped = f.overlapped;
  pthread_mutex_unlock(&f.mu);
  pthread_join(ta, NULL);
  assert_int_equal(b.r, H_OK);
  assert_int_equal(a.r, H_OK);
  assert_int_equal(written, 2);
  assert_int_equal(overlapped, 1); /* b's write ran during a's after_commit */
  assert_int_equal(pushed, 2);     /* and b was answered after both after_commits, in order */
  h_gc_destroy(gc);
}

/* With a prepare step, the next batch is prepared on the preparing thread while the batch
 * before is written; an item prepare refuses fails alone. */
static void test_engine_prepares_while_writing(void **state) {
  (void)state;
  struct fake f;
  struct h_gc *gc = fake_engine_with(&f, 0, &fake_prepared_ops);
  f.slow_write_ms = 400;
  pthread_t ta, tb, tc;
  struct submitter a = {.gc = gc, .item = {.arg = "good"}};
  struct submitter b = {.gc = gc, .item = {.arg = "good"}};
  struct submitter c = {.gc = gc, .item = {.arg = "early"}};
  pthread_create(&ta, NULL, submit, &a);
  wait_for(&f, &f.in_write); /* a prepared, its write begun */
  pthread_create(&tb, NULL, submit, &b);
  pthread_create(&tc, NULL, submit, &c);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  pthread_join(tc, NULL);
  assert_int_equal(a.r, H_OK);
  assert_int_equal(b.r, H_OK);
  assert_int_equal(c.r, H_ERR_UNPROCESSABLE);
  assert_true(f.prepared_in_write >= 1); /* b (and c) prepared while a was written */
  assert_int_equal(f.prepared, 3);        /* each prepared once */
  assert_int_equal(f.written, 2);
  assert_int_equal(f.pushed, 2);
  h_gc_destroy(gc);
  assert_states_released(&f);
}

/* Waits up to 3 s for the engine to have answered n items; false when it has not. */
static bool wait_items(struct h_gc *gc, long n) {
  for (int i = 0; i < 600; i++) {
    long batches, items, retried;
    h_gc_stats(gc, &batches, &items, &retried);
    if (items >= n) {
      return true;
    }
    sleep_ms(5);
  }
  return false;
}

/* Items queued while the preparing thread has no room (a batch ready, its committer still
 * writing the one before) wake nobody when they are queued; the committer that takes the
 * ready batch makes room, and they go out together in the next batch. */
static void test_engine_queued_while_no_room(void **state) {
  (void)state;
  struct fake f;
  struct h_gc *gc = fake_engine_with(&f, 0, &fake_prepared_ops);
  f.slow_write_ms = 400;
  enum { N = 5 };
  pthread_t t[N];
  struct submitter s[N];
  for (int i = 0; i < N; i++) {
    s[i] = (struct submitter){.gc = gc, .item = {.arg = "good"}};
  }
  pthread_create(&t[0], NULL, submit, &s[0]);
  wait_for(&f, &f.in_write); /* a prepared, its write begun */
  pthread_create(&t[1], NULL, submit, &s[1]);
  for (int i = 0; i < 200; i++) { /* b prepared: the one ready batch */
    pthread_mutex_lock(&f.mu);
    int prepared = f.prepared;
    pthread_mutex_unlock(&f.mu);
    if (prepared == 2) {
      break;
    }
    sleep_ms(5);
  }
  for (int i = 2; i < N; i++) {
    pthread_create(&t[i], NULL, submit, &s[i]);
  }
  sleep_ms(50);
  pthread_mutex_lock(&f.mu);
  assert_true(f.in_write);            /* a is still being written */
  assert_int_equal(f.prepared, 2);    /* and c, d, e wait, not prepared */
  pthread_mutex_unlock(&f.mu);
  assert_true(wait_items(gc, N));     /* all answered once a's write ends */
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(s[i].r, H_OK);
  }
  long batches, items, retried;
  h_gc_stats(gc, &batches, &items, &retried);
  assert_int_equal(batches, 3); /* a, b, then c, d and e together */
  assert_int_equal(f.prepared, N);
  assert_int_equal(f.written, N);
  assert_int_equal(f.largest, 3);
  h_gc_destroy(gc);
  assert_int_equal(f.states, 3);
  assert_states_released(&f);
}

/* A batch whose prepare fails is prepared again by its committer, then retried one item at
 * a time: the item that breaks it fails alone. The queue drains on destroy. */
static void test_engine_prepare_fails_alone(void **state) {
  (void)state;
  struct fake f;
  struct h_gc *gc = fake_engine_with(&f, 300000, &fake_prepared_ops); /* one batch */
  one_odd_item(gc, &f, 1, "badprep", H_ERR_CONFLICT, 1);
  h_gc_destroy(gc);
  /* the preparing thread's, the committer's again, then one per item retried alone */
  assert_int_equal(f.states, 2 + 6);
  assert_states_released(&f);
  gc = fake_engine_with(&f, 5000000, &fake_prepared_ops);
  run_engine(gc, &f, 6, -1, 300, true); /* queued when destroyed: committed, not dropped */
  assert_states_released(&f);
}

/* ---- through the API ---- */

struct poster {
  char body[512];
  char key[160];  /* "Idempotency-Key: ..." or "" */
  long status;
  json_t *json;
};

static void *post(void *arg) {
  struct poster *p = arg;
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/notifications", p->body, p->key[0] ? p->key : NULL, &r);
  p->status = r.status;
  p->json = r.json != NULL ? json_incref(r.json) : NULL;
  th_response_free(&r);
  return NULL;
}

/* Runs n posters concurrently. */
static void post_all(struct poster *p, int n) {
  pthread_t *t = calloc((size_t)n, sizeof(*t));
  for (int i = 0; i < n; i++) {
    pthread_create(&t[i], NULL, post, &p[i]);
  }
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
  }
  free(t);
}

/* Everything a 202 promises is committed: the row, 3 deliveries, the audit row, the
 * queued ids in Redis. */
static void assert_committed(const json_t *n) {
  const char *id = th_str(n, "id");
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE id = $1::uuid", id), 1);
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE notification_id ="
                               " $1::uuid", id), 3);
  assert_int_equal(th_sql_long("SELECT count(*) FROM audit_log WHERE action ="
                               " 'notification.created' AND target_id = $1", id), 1);
  assert_true(th_list_has("herald:q:{email}", th_str(ns_delivery(n, "email"), "id")));
  assert_true(th_list_has("herald:q:{sms}", th_str(ns_delivery(n, "sms"), "id")));
  assert_int_equal(th_sql_long("SELECT count(*) FROM deliveries WHERE id = $1::uuid AND"
                               " status = 'queued'", th_str(ns_delivery(n, "email"), "id")), 1);
}

static void body_for(struct poster *p, const char *uid, int i) {
  snprintf(p->body, sizeof(p->body),
           "{\"user_id\":\"%s\",\"category\":\"gc\",\"title\":\"T%d\",\"body\":\"B%d\","
           "\"channels\":[\"in_app\",\"email\",\"sms\"],\"data\":{\"i\":%d}}",
           uid, i, i, i);
}

/* n POSTs of uid's at once (body_for's bodies), each on its own thread; returns when all
 * were answered. */
static void post_for_user(struct poster *p, int n, const char *uid) {
  memset(p, 0, (size_t)n * sizeof(*p));
  for (int i = 0; i < n; i++) {
    body_for(&p[i], uid, i);
  }
  post_all(p, n);
}

static void test_concurrent_posts_share_transactions(void **state) {
  (void)state;
  start("true", "50000", "true");
  char uid[37];
  free(th_user(&srv, "gc-many", "+14155550111", uid));
  enum { N = 24 };
  struct poster p[N];
  post_for_user(p, N, uid);
  for (int i = 0; i < N; i++) {
    if (p[i].status != 202) {
      fail_msg("request %d: %ld", i, p[i].status);
    }
    th_assert_json_subset("{\"object\":\"notification\",\"status\":\"queued\"}", p[i].json);
    assert_committed(p[i].json);
    json_decref(p[i].json);
  }
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'", uid), N);
  long batches, items, retried;
  h_gc_stats(srv.app.notify_gc, &batches, &items, &retried);
  assert_int_equal(items, N);
  assert_true(batches < N); /* some requests shared a transaction */
  assert_int_equal(retried, 0);
  struct th_response m;
  th_request(&srv, "GET", "/metrics", NULL, NULL, &m);
  assert_int_equal(m.status, 200);
  char want[64];
  snprintf(want, sizeof(want), "herald_group_commit_items_total %d\n", N);
  assert_non_null(strstr(m.body, want));
  snprintf(want, sizeof(want), "herald_group_commit_batches_total %ld\n", batches);
  assert_non_null(strstr(m.body, want));
  /* One write time per batch, in the histogram's last bucket and its count. */
  snprintf(want, sizeof(want), "herald_group_commit_write_seconds_bucket{le=\"+Inf\"} %ld\n",
           batches);
  assert_non_null(strstr(m.body, want));
  snprintf(want, sizeof(want), "herald_group_commit_write_seconds_count %ld\n", batches);
  assert_non_null(strstr(m.body, want));
  const char *sum = strstr(m.body, "herald_group_commit_write_seconds_sum ");
  assert_non_null(sum);
  assert_true(strtod(sum + strlen("herald_group_commit_write_seconds_sum "), NULL) > 0);
  th_response_free(&m);
  stop();
}

/* The batch's read of its recipients counts a user's active devices only for the sends that
 * may go by push (naming push, or no channel): in one batch, those find the user's device and
 * queue a push delivery, the others plan none, and a user without a device is skipped as
 * "no_device". A flag read from the wrong row would skip or plan the wrong sends' push. */
static void test_devices_counted_for_push_sends(void **state) {
  (void)state;
  start("true", "50000", "true");
  char uid[37], bare[37], dev[160];
  char *tok = th_user(&srv, "gc-dev", NULL, uid);
  free(th_user(&srv, "gc-nodev", NULL, bare));
  snprintf(dev, sizeof(dev), "{\"token\":\"fcm-%s\",\"platform\":\"android\"}", uid);
  struct th_response r;
  th_call(&srv, tok, "POST", "/api/v1/devices", dev, NULL, &r);
  assert_int_equal(r.status, 201);
  th_response_free(&r);
  free(tok);
  static const char *const channels[] = {"\"channels\":[\"push\"],",
                                         "\"channels\":[\"in_app\"],", "", ""};
  enum { N = 16 };
  struct poster p[N];
  memset(p, 0, sizeof(p));
  for (int i = 0; i < N; i++) { /* push, in_app, every channel: the user; push: no device */
    snprintf(p[i].body, sizeof(p[i].body),
             "{\"user_id\":\"%s\",\"category\":\"gc\",%s\"body\":\"B%d\"}",
             i % 4 == 3 ? bare : uid, i % 4 == 3 ? channels[0] : channels[i % 4], i);
  }
  post_all(p, N);
  for (int i = 0; i < N; i++) {
    if (p[i].status != 202) {
      fail_msg("request %d: %ld", i, p[i].status);
    }
    const json_t *push = ns_delivery(p[i].json, "push");
    if (i % 4 == 1) {
      assert_null(push);
      assert_int_equal(json_array_size(json_object_get(p[i].json, "deliveries")), 1);
    } else if (i % 4 == 3) {
      th_assert_json_subset("{\"status\":\"skipped\",\"reason\":\"no_device\"}", push);
    } else {
      th_assert_json_subset("{\"status\":\"queued\"}", push);
      assert_true(th_list_has("herald:q:{push}", th_str(push, "id")));
    }
    json_decref(p[i].json);
  }
  long batches, items, retried;
  h_gc_stats(srv.app.notify_gc, &batches, &items, &retried);
  assert_int_equal(items, N);
  assert_true(batches < N); /* some sends of each kind shared a read */
  stop();
}

static void set_audit_id_default(const char *expr) {
  char sql[128];
  snprintf(sql, sizeof(sql), "ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT %s", expr);
  PGconn *c = th_db_connect();
  PGresult *r = PQexec(c, sql);
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  PQfinish(c);
}

/* The audit rows of a batch take the ids the API made (time-ordered, version 7), not the
 * column's default: with the default set to gen_random_uuid() (version 4) for the test, each
 * POST's audit row still has a version-7 id, its own, made within the request's time. */
static void test_audit_ids_from_the_api(void **state) {
  (void)state;
  start("true", "50000", "true");
  char uid[37];
  free(th_user(&srv, "gc-audit", "+14155550116", uid));
  set_audit_id_default("gen_random_uuid()");
  long before = th_sql_long("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint", NULL);
  enum { N = 12 };
  struct poster p[N];
  post_for_user(p, N, uid);
  long after = th_sql_long("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint", NULL);
  for (int i = 0; i < N; i++) {
    assert_int_equal(p[i].status, 202);
    const char *nid = json_string_value(json_object_get(p[i].json, "id"));
    assert_non_null(nid);
    char *id = th_sql_text("SELECT a.id::text FROM audit_log a WHERE a.target_type = 'notification'"
                           " AND a.target_id = $1 AND a.action = 'notification.created'", nid);
    assert_non_null(id);
    assert_int_equal(id[14], '7'); /* the version nibble */
    assert_true(strchr("89ab", id[19]) != NULL); /* the variant */
    /* the first 48 bits: milliseconds of Unix time, made between before and after */
    char ms_hex[13];
    snprintf(ms_hex, sizeof(ms_hex), "%.8s%.4s", id, id + 9);
    long ms = strtol(ms_hex, NULL, 16);
    assert_true(ms >= before && ms <= after);
    assert_string_not_equal(id, nid);
    free(id);
    json_decref(p[i].json);
  }
  assert_int_equal(th_sql_long("SELECT count(DISTINCT a.id) FROM audit_log a"
                               " JOIN notifications n ON n.id::text = a.target_id"
                               " WHERE n.user_id = $1::uuid AND n.category = 'gc'", uid), N);
  set_audit_id_default("herald_uuid_v7()"); /* migration 0096's */
  stop();
}

static void delete_user(const char *uid) {
  free(th_sql_text("UPDATE users SET status = 'deleted' WHERE id = $1::uuid RETURNING id", uid));
}

/* Polls until at least n items wait in the group-commit queue, for up to limit_ms. */
static void wait_queued(int n, long limit_ms) {
  for (long waited = 0; waited < limit_ms && h_gc_queued(srv.app.notify_gc) < n; waited += 10) {
    sleep_ms(10);
  }
}

static void test_recipient_deleted_in_batch_fails_alone(void **state) {
  (void)state;
  /* The batch waits 1 s: time to delete the first request's user while it is queued with
   * the others (the batch reads its recipients after the wait, so that one is refused
   * alone, the others commit). 32 HTTP threads so that no request queues behind another one's wait. */
  setenv("HERALD_HTTP_THREADS", "32", 1);
  start("true", "1000000", "true");
  char good[37], gone[37];
  free(th_user(&srv, "gc-good", "+14155550112", good));
  free(th_user(&srv, "gc-gone", "+14155550113", gone));
  enum { N = 7 };
  struct poster p[N];
  pthread_t t[N];
  memset(p, 0, sizeof(p));
  for (int i = 0; i < N; i++) {
    body_for(&p[i], i == 0 ? gone : good, i);
  }
  pthread_create(&t[0], NULL, post, &p[0]); /* read (the user exists) and queued first */
  wait_queued(1, 5000);
  for (int i = 1; i < N; i++) {
    pthread_create(&t[i], NULL, post, &p[i]);
  }
  wait_queued(N, 600); /* well within the 1 s the batch waits */
  delete_user(gone);
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
  }
  assert_int_equal(p[0].status, 422);
  assert_string_equal(th_str(json_object_get(p[0].json, "error"), "code"), "user_not_found");
  json_decref(p[0].json);
  for (int i = 1; i < N; i++) {
    assert_int_equal(p[i].status, 202);
    assert_committed(p[i].json);
    json_decref(p[i].json);
  }
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'", gone), 0);
  long batches, items, retried;
  h_gc_stats(srv.app.notify_gc, &batches, &items, &retried);
  if (retried != 0) { /* recipients are read in the batch's transaction: refused alone */
    fail_msg("%ld batch(es) retried: %ld item(s) in %ld batch(es)", retried, items, batches);
  }
  stop();
  setenv("HERALD_HTTP_THREADS", "4", 1);
}

/* Creates the template key whose in-app title is title_tpl (a 201). */
static void template_for(const char *key, const char *title_tpl) {
  char body[256];
  snprintf(body, sizeof(body),
           "{\"key\":\"%s\",\"name\":\"%s\",\"channels\":{\"in_app\":{\"title\":\"%s\","
           "\"body\":\"b\"}}}", key, key, title_tpl);
  struct th_response r;
  th_call(&srv, admin, "POST", "/api/v1/admin/templates", body, NULL, &r);
  assert_int_equal(r.status, 201);
  th_response_free(&r);
}

/* A batch reads each template its sends name once; each send still gets its own template's
 * content, and one naming an unknown template, or missing a variable, is refused alone. */
static void test_templates_in_one_batch(void **state) {
  (void)state;
  setenv("HERALD_HTTP_THREADS", "32", 1);
  start("true", "300000", "true"); /* a batch waits 0.3 s: the posts share it */
  char uid[37];
  free(th_user(&srv, "gc-tpl", "+14155550114", uid));
  template_for("gc.one", "One {{name}}");
  template_for("gc.two", "Two {{name}}");
  const char *sends[][2] = {
    {"gc.one", "{\"name\":\"a\"}"}, {"gc.two", "{\"name\":\"b\"}"},
    {"gc.one", "{\"name\":\"c\"}"}, {"gc.nope", "{\"name\":\"d\"}"},
    {"gc.two", "{\"name\":\"e\"}"}, {"gc.one", "{}"},
  };
  const char *want[] = {"One a", "Two b", "One c", "template_not_found", "Two e",
                        "missing_variable"};
  enum { N = sizeof(sends) / sizeof(*sends) };
  struct poster p[N];
  memset(p, 0, sizeof(p));
  for (int i = 0; i < N; i++) {
    snprintf(p[i].body, sizeof(p[i].body),
             "{\"user_id\":\"%s\",\"category\":\"gc\",\"template\":\"%s\",\"data\":%s,"
             "\"channels\":[\"in_app\",\"email\",\"sms\"]}", uid, sends[i][0], sends[i][1]);
  }
  post_all(p, N);
  for (int i = 0; i < N; i++) {
    if (want[i][0] == 'O' || want[i][0] == 'T') {
      assert_int_equal(p[i].status, 202);
      assert_committed(p[i].json);
      char *title = th_sql_text("SELECT title FROM notifications WHERE id = $1::uuid",
                                th_str(p[i].json, "id"));
      assert_string_equal(title, want[i]);
      free(title);
    } else {
      assert_int_equal(p[i].status, 422);
      assert_string_equal(th_str(json_object_get(p[i].json, "error"), "code"), want[i]);
    }
    json_decref(p[i].json);
  }
  long batches, items, retried;
  h_gc_stats(srv.app.notify_gc, &batches, &items, &retried);
  assert_int_equal(retried, 0);
  stop();
  setenv("HERALD_HTTP_THREADS", "4", 1);
}

static void test_idempotency_in_batch(void **state) {
  (void)state;
  start("true", "300000", "true");
  char uid[37];
  free(th_user(&srv, "gc-idem", "+14155550114", uid));
  /* A key already used, before the batch. */
  struct poster first = {0};
  body_for(&first, uid, 100);
  snprintf(first.key, sizeof(first.key), "Idempotency-Key: gc-used-%s", uid);
  post(&first);
  assert_int_equal(first.status, 202);
  enum { N = 8 };
  struct poster p[N];
  memset(p, 0, sizeof(p));
  for (int i = 0; i < N; i++) {
    body_for(&p[i], uid, i);
    snprintf(p[i].key, sizeof(p[i].key), "Idempotency-Key: gc-%d-%s", i, uid);
  }
  snprintf(p[3].key, sizeof(p[3].key), "%s", first.key); /* same key, another body */
  post_all(p, N);
  for (int i = 0; i < N; i++) {
    if (i == 3) {
      assert_int_equal(p[i].status, 400);
      assert_string_equal(th_str(json_object_get(p[i].json, "error"), "code"),
                          "idempotency_key_reused");
      json_decref(p[i].json);
      continue;
    }
    assert_int_equal(p[i].status, 202);
    assert_committed(p[i].json);
    /* The record written in the batch replays the original response. */
    struct poster again = p[i];
    again.json = NULL;
    post(&again);
    assert_int_equal(again.status, 202);
    assert_string_equal(th_str(again.json, "id"), th_str(p[i].json, "id"));
    assert_true(json_equal(again.json, p[i].json));
    json_decref(again.json);
    json_decref(p[i].json);
  }
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'", uid), N);
  json_decref(first.json);
  stop();
}

/* The same key sent by concurrent requests that share a batch: the first one's send is
 * written (one notification), the others are answered its stored response; no batch fails
 * over it. */
static void test_same_key_in_one_batch(void **state) {
  (void)state;
  start("true", "300000", "true");
  char uid[37];
  free(th_user(&srv, "gc-samekey", "+14155550115", uid));
  enum { N = 4 };
  struct poster p[N];
  memset(p, 0, sizeof(p));
  for (int i = 0; i < N; i++) {
    body_for(&p[i], uid, 1);
    snprintf(p[i].key, sizeof(p[i].key), "Idempotency-Key: gc-same-%s", uid);
  }
  post_all(p, N);
  for (int i = 0; i < N; i++) {
    assert_int_equal(p[i].status, 202);
    assert_true(json_equal(p[i].json, p[0].json));
  }
  assert_committed(p[0].json);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'",
                               uid), 1);
  long batches, items, retried;
  h_gc_stats(srv.app.notify_gc, &batches, &items, &retried);
  assert_int_equal(retried, 0);
  for (int i = 0; i < N; i++) {
    json_decref(p[i].json);
  }
  stop();
}

/* Sets the record of key (SQL assignments) and returns the POST's status for body. */
static long post_with_record(struct poster *p, const char *key, const char *set) {
  char sql[256];
  snprintf(sql, sizeof(sql), "UPDATE idempotency_keys SET %s WHERE key = $1 RETURNING key", set);
  free(th_sql_text(sql, key));
  json_decref(p->json);
  p->json = NULL;
  post(p);
  return p->status;
}

/* A key claimed by the batch statement itself: held by a request in flight -> 409 and
 * nothing written; in flight longer than HERALD_IDEMPOTENCY_LOCK_S -> taken over; older
 * than HERALD_IDEMPOTENCY_TTL_S -> a new request; refused sends leave no record. */
static void test_key_claimed_in_the_write(void **state) {
  (void)state;
  start("true", "0", "true");
  char uid[37], key[80];
  free(th_user(&srv, "gc-claim", "+14155550116", uid));
  snprintf(key, sizeof(key), "gc-claim-%s", uid);
  struct poster p = {0};
  snprintf(p.key, sizeof(p.key), "Idempotency-Key: %s", key);
  /* An unknown recipient: 422, and the key stays free. */
  body_for(&p, "00000000-0000-4000-8000-000000000000", 1);
  post(&p);
  assert_int_equal(p.status, 422);
  assert_int_equal(th_sql_long("SELECT count(*) FROM idempotency_keys WHERE key = $1", key), 0);
  body_for(&p, uid, 1);
  json_decref(p.json);
  post(&p);
  assert_int_equal(p.status, 202);
  char *first = strdup(th_str(p.json, "id"));
  char *stored = th_sql_text("SELECT response_body::jsonb ->> 'id' FROM idempotency_keys"
                             " WHERE key = $1 AND status = 'completed' AND response_status = 202",
                             key);
  assert_string_equal(stored, first);
  free(stored);
  /* Held by a request in flight. */
  assert_int_equal(post_with_record(&p, key, "status = 'in_flight', response_status = NULL,"
                                    " response_body = NULL, locked_at = now()"), 409);
  assert_string_equal(th_str(json_object_get(p.json, "error"), "code"), "idempotency_in_flight");
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'",
                               uid), 1);
  /* Its holder gone for longer than the lock: taken over, sent again. */
  assert_int_equal(post_with_record(&p, key, "locked_at = now() - interval '61 seconds'"), 202);
  assert_string_not_equal(th_str(p.json, "id"), first);
  assert_committed(p.json);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'",
                               uid), 2);
  /* Expired: another body with the key is a new request, not a reuse. */
  body_for(&p, uid, 2);
  assert_int_equal(post_with_record(&p, key, "created_at = now() - interval '25 hours'"), 202);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'",
                               uid), 3);
  assert_int_equal(th_sql_long("SELECT count(*) FROM idempotency_keys WHERE key = $1 AND"
                               " status = 'completed' AND created_at > now() - interval '1 minute'",
                               key), 1);
  json_decref(p.json);
  free(first);
  stop();
}

/* A key the API claimed before the send (post_answer: the batch found it held, and its holder
 * was gone by the time the API claimed it) is completed by the batch's statement with the
 * 202 the send answers (the statement's k, which no HTTP test reaches: the race that leads
 * there cannot be timed from outside, so this drives the service itself). */
static void test_key_claimed_before_the_write(void **state) {
  (void)state;
  start("true", "0", "true");
  char uid[37];
  free(th_user(&srv, "gc-preclaim", "+14155550117", uid));
  struct h_idem idem;
  memset(&idem, 0, sizeof(idem));
  idem.status[H_OUTCOME_OK] = 200;
  idem.status[H_OUTCOME_CREATED] = 201;
  idem.status[H_OUTCOME_ACCEPTED] = 202;
  idem.status_of = h_result_http_status;
  snprintf(idem.caller, sizeof(idem.caller), "user:%s", uid);
  snprintf(idem.key, sizeof(idem.key), "gc-preclaim-%s", uid);
  h_idem_request_hash("POST", "/api/v1/notifications", NULL, idem.hash);
  enum h_idem_state claimed;
  unsigned int status = 0;
  char *stored = NULL;
  assert_int_equal(h_idem_claim(srv.app.db, &idem, 60, 86400, &claimed, &status, &stored),
                   H_OK);
  assert_int_equal(claimed, H_IDEM_CLAIMED);
  assert_null(stored);
  idem.active = true; /* claimed, not deferred: the statement completes it */
  struct h_notify_request req = {.user_id = uid, .category = "gc", .priority = "normal",
                                 .channels = H_CHANNEL_BIT(H_CHANNEL_IN_APP) |
                                             H_CHANNEL_BIT(H_CHANNEL_EMAIL) |
                                             H_CHANNEL_BIT(H_CHANNEL_SMS),
                                 .title = "Claimed first", .body = "b"};
  struct h_actor actor = {.id = uid, .type = "user", .ip = "127.0.0.1", .request_id = "r1"};
  struct h_notify_error err;
  memset(&err, 0, sizeof(err));
  char *text = NULL;
  assert_int_equal(h_notification_send(&srv.app, &actor, &req, &idem, &text, &err), H_OK);
  assert_non_null(text);
  json_t *sent = json_loads(text, 0, NULL);
  assert_non_null(sent);
  assert_committed(sent);
  char *body = th_sql_text("SELECT response_body FROM idempotency_keys WHERE key = $1"
                           " AND status = 'completed' AND response_status = 202"
                           " AND completed_at IS NOT NULL",
                           idem.key);
  assert_string_equal(body, text);
  free(body);
  free(text);
  json_decref(sent);
  stop();
}

static void test_group_commit_off(void **state) {
  (void)state;
  start("false", "0", "false");
  assert_null(srv.app.notify_gc);
  char uid[37];
  free(th_user(&srv, "gc-off", "+14155550115", uid));
  enum { N = 4 };
  struct poster p[N];
  post_for_user(p, N, uid);
  for (int i = 0; i < N; i++) {
    assert_int_equal(p[i].status, 202);
    assert_committed(p[i].json);
    json_decref(p[i].json);
  }
  stop();
}

/* ---- a POST parked while its batch is written (api/http/park.h) ---- */

/* Holds back every batch's write: a transaction of its own locks notifications against
 * inserts (reads go on) until release_writes. */
static PGconn *hold_writes(void) {
  PGconn *c = th_db_connect();
  PGresult *r = PQexec(c, "BEGIN; LOCK TABLE notifications IN SHARE ROW EXCLUSIVE MODE");
  assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
  PQclear(r);
  return c;
}

static void release_writes(PGconn *c) {
  PQclear(PQexec(c, "COMMIT"));
  PQfinish(c);
}

/* Polls until n requests are parked, for up to 20 s. */
static void wait_parked(int n) {
  for (int i = 0; i < 2000 && h_park_count() != n; i++) {
    sleep_ms(10);
  }
  assert_int_equal(h_park_count(), n);
}

/* Holds the writes back and starts n POSTs (p, t) of uid's, until all n are parked;
 * returns the holding connection (release_writes). */
static PGconn *park_posts(struct poster *p, pthread_t *t, int n, const char *uid) {
  memset(p, 0, (size_t)n * sizeof(*p));
  PGconn *lock = hold_writes();
  for (int i = 0; i < n; i++) {
    body_for(&p[i], uid, i);
    pthread_create(&t[i], NULL, post, &p[i]);
  }
  wait_parked(n);
  return lock;
}

/* A POST waiting for its batch holds no HTTP thread: with 2 threads and the writes held
 * back, 6 POSTs wait at once and /healthz answers on the same listener meanwhile; once the
 * writes go, each is answered 202 with its rows committed (and counted in the metrics).
 * Threads that waited for their batch would leave /healthz no thread until the writes went. */
static void test_posts_release_their_threads(void **state) {
  (void)state;
  setenv("HERALD_HTTP_THREADS", "2", 1);
  start("true", "0", "true");
  char uid[37];
  free(th_user(&srv, "gc-park", "+14155550116", uid));
  enum { N = 6 };
  struct poster p[N];
  pthread_t t[N];
  PGconn *lock = park_posts(p, t, N, uid);
  struct th_response h;
  th_request(&srv, "GET", "/healthz", NULL, NULL, &h);
  assert_int_equal(h.status, 200);
  th_response_free(&h);
  assert_int_equal(h_park_count(), N); /* answered while every POST still waited */
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'", uid), 0);
  release_writes(lock);
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(p[i].status, 202);
    th_assert_json_subset("{\"object\":\"notification\",\"status\":\"queued\"}", p[i].json);
    assert_committed(p[i].json);
    json_decref(p[i].json);
  }
  assert_int_equal(h_park_count(), 0);
  long batches, items, retried;
  h_gc_stats(srv.app.notify_gc, &batches, &items, &retried);
  assert_int_equal(items, N);
  assert_true(batches < N);
  struct th_response m;
  th_request(&srv, "GET", "/metrics", NULL, NULL, &m);
  assert_int_equal(m.status, 200);
  assert_non_null(
      strstr(m.body, "route=\"/api/v1/notifications\",method=\"POST\",status=\"202\"} 6\n"));
  th_response_free(&m);
  stop();
  setenv("HERALD_HTTP_THREADS", "4", 1);
}

/* Sends a POST of body on a connection of its own and closes it at once, unanswered. */
/* Sends a POST of body on a connection of its own and returns it, without reading. */
static int send_post(const char *body) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)h_server_port(srv.server))};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
  char req[2048];
  int n = snprintf(req, sizeof(req),
                   "POST /api/v1/notifications HTTP/1.1\r\nHost: t\r\n%s\r\n"
                   "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                   th_bearer(admin), strlen(body), body);
  assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
  return fd;
}

static void post_and_hang_up(const char *body) { close(send_post(body)); }

/* A client that hangs up while its POST is parked: the send still commits (the batch
 * holds it), nothing is answered on the closed connection, and the server goes on. */
static void test_parked_post_client_gone(void **state) {
  (void)state;
  start("true", "0", "true");
  char uid[37];
  free(th_user(&srv, "gc-hangup", "+14155550117", uid));
  struct poster p = {0};
  body_for(&p, uid, 1);
  PGconn *lock = hold_writes();
  post_and_hang_up(p.body);
  wait_parked(1);
  release_writes(lock);
  wait_parked(0);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'", uid), 1);
  body_for(&p, uid, 2);
  post(&p);
  assert_int_equal(p.status, 202);
  assert_committed(p.json);
  json_decref(p.json);
  stop();
}

/* Clients that hang up at every moment of their POSTs' batch cycle, 16 at a time. MHD closes
 * a connection whose client left after its request was resumed, without dispatching it again:
 * the parked request must not stay held. Kept, it was found again by the next request whose
 * ulfius request took the same address, on any connection of that thread, and answered it
 * with its own 202 (seen as a GET /metrics answered with a POST's body). */
static void test_hung_up_posts_leave_nothing_held(void **state) {
  (void)state;
  start("true", "0", "true");
  char uid[37];
  free(th_user(&srv, "gc-hangups", "+14155550119", uid));
  struct poster p = {0};
  body_for(&p, uid, 1);
  enum { ROUNDS = 60, N = 16 };
  for (int round = 0; round < ROUNDS; round++) {
    int fd[N];
    for (int i = 0; i < N; i++) {
      fd[i] = send_post(p.body);
    }
    struct timespec t = {0, (round % 12) * 250000L}; /* 0 to 2.75 ms after sending */
    nanosleep(&t, NULL);
    for (int i = 0; i < N; i++) {
      close(fd[i]);
    }
  }
  wait_parked(0);
  for (int i = 0; i < 100; i++) {
    struct th_response h;
    th_request(&srv, "GET", "/healthz", NULL, NULL, &h);
    assert_int_equal(h.status, 200);
    th_assert_json_subset("{\"status\":\"ok\"}", h.json);
    th_response_free(&h);
  }
  stop();
}

static void *stop_server(void *arg) {
  (void)arg;
  th_stop(&srv);
  return NULL;
}

/* Stopping the server while POSTs are parked answers them first (202, committed): MHD
 * stops only once none is left, since their batch's answer resumes their connections. */
static void test_stop_answers_parked_posts(void **state) {
  (void)state;
  start("true", "0", "true");
  char uid[37];
  free(th_user(&srv, "gc-stop", "+14155550118", uid));
  enum { N = 3 };
  struct poster p[N];
  pthread_t t[N], stopper;
  PGconn *lock = park_posts(p, t, N, uid);
  pthread_create(&stopper, NULL, stop_server, NULL);
  sleep_ms(300); /* the stop waits for them */
  assert_int_equal(h_park_count(), N);
  release_writes(lock);
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(p[i].status, 202);
    json_decref(p[i].json);
  }
  pthread_join(stopper, NULL);
  free(admin);
  admin = NULL;
  assert_int_equal(h_park_count(), 0);
  assert_int_equal(th_sql_long("SELECT count(*) FROM notifications WHERE user_id = $1::uuid"
                               " AND category = 'gc'", uid), N);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_engine_one_bad_item_fails_alone),
    cmocka_unit_test(test_engine_counts_write_times),
    cmocka_unit_test(test_engine_refused_item_alone_without_retry),
    cmocka_unit_test(test_engine_drains_on_destroy),
    cmocka_unit_test(test_engine_commits_while_answering),
    cmocka_unit_test(test_engine_prepares_while_writing),
    cmocka_unit_test(test_engine_queued_while_no_room),
    cmocka_unit_test(test_engine_prepare_fails_alone),
    cmocka_unit_test(test_concurrent_posts_share_transactions),
    cmocka_unit_test(test_audit_ids_from_the_api),
    cmocka_unit_test(test_devices_counted_for_push_sends),
    cmocka_unit_test(test_recipient_deleted_in_batch_fails_alone),
    cmocka_unit_test(test_templates_in_one_batch),
    cmocka_unit_test(test_idempotency_in_batch),
    cmocka_unit_test(test_same_key_in_one_batch),
    cmocka_unit_test(test_key_claimed_in_the_write),
    cmocka_unit_test(test_key_claimed_before_the_write),
    cmocka_unit_test(test_group_commit_off),
    cmocka_unit_test(test_posts_release_their_threads),
    cmocka_unit_test(test_parked_post_client_gone),
    cmocka_unit_test(test_hung_up_posts_leave_nothing_held),
    cmocka_unit_test(test_stop_answers_parked_posts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
