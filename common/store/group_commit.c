/* group_commit.c - the group-commit queue and its threads: preparing, committing, answering. */
#include "store/group_commit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"

/* A batch: taken from the queue, prepared (or not), then written, then answered; once
 * written, its ok items come first (after_commit gets them), then the failed ones. */
struct batch {
  struct batch *next;
  int n, ok;
  bool prepared; /* ops->prepare ran and succeeded on the preparing thread */
  void *state;   /* what ops->prepare left for ops->write (ops->release frees it) */
  struct h_gc_item *items[];
};

/* A list of batches (ready ones, or written ones to answer): append and take the first. */
struct batch_list {
  struct batch *head, *tail;
};

static void batches_push(struct batch_list *l, struct batch *b) {
  b->next = NULL;
  if (l->tail != NULL) {
    l->tail->next = b;
  } else {
    l->head = b;
  }
  l->tail = b;
}

static struct batch *batches_pop(struct batch_list *l) {
  struct batch *b = l->head;
  if (b != NULL) {
    l->head = b->next;
    if (l->head == NULL) {
      l->tail = NULL;
    }
  }
  return b;
}

struct h_gc {
  struct h_gc_options opt; /* strings owned */
  const struct h_gc_ops *ops;
  void *ctx;
  pthread_mutex_t mu;
  pthread_cond_t work;     /* items were queued, or stopping */
  struct h_gc_item *head, *tail;
  int queued;
  bool started, stopping;
  pthread_t *threads;
  int running;
  long batches, items, retried;
  long write_counts[H_GC_WRITE_BUCKETS + 1]; /* h_gc_write_times */
  double write_seconds;
  /* The preparing thread (when ops->prepare is set and it could start): it takes what is
   * queued and runs ops->prepare on a connection of its own while the committers write the
   * batch before, then leaves the batch in ready (at most one per committer). */
  bool pipelined, prepared_all; /* the thread runs; it has handed over its last batch */
  pthread_t preparer;
  pthread_cond_t readied;       /* a batch is ready, or the preparer is done */
  struct batch_list ready;
  int nready;
  /* The answering thread: a committed batch is handed to it for after_commit and its
   * waiters' wake-ups, so that the committer sends its next batch at once. Waking a batch's
   * waiters one by one let each of them preempt the committer, and PostgreSQL waited for
   * the next batch meanwhile (about 2 ms of every 9 ms cycle in a perf sched trace). */
  pthread_mutex_t amu;
  pthread_cond_t answer;    /* a batch was handed over, or stopping */
  struct batch_list answers;
  bool answering, astop;    /* the thread runs; no more batches will come */
  pthread_t answerer;
};

struct h_gc *h_gc_create(const struct h_gc_options *opt, const struct h_gc_ops *ops,
                         void *ctx) {
  struct h_gc *gc = h_calloc(1, sizeof(*gc));
  gc->opt = *opt;
  gc->opt.db.url = h_strdup(opt->db.url);
  gc->opt.db.application_name =
      h_strdup(opt->db.application_name != NULL ? opt->db.application_name : "herald");
  gc->opt.threads = opt->threads > 0 ? opt->threads : 1;
  gc->opt.max_batch = opt->max_batch > 0 ? opt->max_batch : 1;
  gc->ops = ops;
  gc->ctx = ctx;
  pthread_mutex_init(&gc->mu, NULL);
  pthread_cond_init(&gc->work, NULL);
  pthread_cond_init(&gc->readied, NULL);
  pthread_mutex_init(&gc->amu, NULL);
  pthread_cond_init(&gc->answer, NULL);
  return gc;
}

/* Frees what ops->prepare left in *state (none: nothing to do). */
static void release(struct h_gc *gc, void **state) {
  if (*state != NULL && gc->ops->release != NULL) {
    gc->ops->release(*state, gc->ctx);
  }
  *state = NULL;
}

/* BEGIN, ops->write of items (given state), COMMIT; rolls back on any error. A
 * one-statement write commits (or fails) by itself. */
static h_result tx(struct h_gc *gc, PGconn *conn, struct h_gc_item *const *items, int n,
                   void *state) {
  if (gc->ops->one_statement) {
    return gc->ops->write(conn, items, n, state, gc->ctx);
  }
  h_result r = h_db_begin(conn);
  if (r == H_OK) {
    r = gc->ops->write(conn, items, n, state, gc->ctx);
  }
  if (r == H_OK) {
    r = h_db_commit(conn);
  }
  if (r != H_OK) {
    h_db_rollback(conn);
  }
  return r;
}

/* A usable connection in *conn (reconnecting when the last one broke). */
static h_result ensure_conn(struct h_gc *gc, PGconn **conn) {
  if (*conn != NULL && PQstatus(*conn) == CONNECTION_OK &&
      PQtransactionStatus(*conn) == PQTRANS_IDLE) {
    return H_OK;
  }
  PQfinish(*conn);
  *conn = NULL;
  return h_db_connect(&gc->opt.db, conn);
}

/* ops->prepare (unless prepared already, on the preparing thread, which left *state) and
 * tx of items[0..n), every result reset first: an item ops->prepare or ops->write refused
 * keeps its own result when the transaction commits, every item gets the transaction's when
 * it fails. The caller releases *state. */
static h_result tx_items(struct h_gc *gc, PGconn *conn, struct h_gc_item *const *items, int n,
                         bool prepared, void **state) {
  h_result r = H_OK;
  if (!prepared) {
    for (int i = 0; i < n; i++) {
      items[i]->result = H_OK;
    }
    release(gc, state);
    if (gc->ops->prepare != NULL) {
      r = gc->ops->prepare(conn, items, n, gc->ctx, state);
    }
  }
  if (r == H_OK) {
    r = tx(gc, conn, items, n, *state);
  }
  for (int i = 0; r != H_OK && i < n; i++) {
    items[i]->result = r;
  }
  return r;
}

/* Writes batch b; on failure, each item again in its own transaction so that one bad item
 * fails alone. Sets every item's result and puts the written ones first; returns how many
 * were written. */
static int run_batch(struct h_gc *gc, PGconn **conn, struct batch *b, bool *retried) {
  struct h_gc_item **items = b->items;
  int n = b->n;
  h_result r = ensure_conn(gc, conn);
  if (r == H_OK) {
    r = tx_items(gc, *conn, items, n, b->prepared, &b->state);
  }
  for (int i = 0; r != H_OK && i < n; i++) {
    items[i]->result = r;
  }
  bool retry = r != H_OK && n > 1 && *conn != NULL && PQstatus(*conn) == CONNECTION_OK &&
               r != H_ERR_TIMEOUT;
  *retried = retry;
  if (retry) {
    h_log(H_LOG_DEBUG, NULL, NULL, "group commit: batch of %d failed (%s): one by one", n,
          h_result_name(r));
    for (int i = 0; i < n; i++) {
      if (ensure_conn(gc, conn) == H_OK) {
        void *one = NULL;
        tx_items(gc, *conn, &items[i], 1, false, &one);
        release(gc, &one);
      } else {
        items[i]->result = H_ERR_UNAVAILABLE;
      }
    }
  }
  int ok = 0;
  for (int i = 0; i < n; i++) { /* the written ones first, for after_commit */
    if (items[i]->result == H_OK) {
      struct h_gc_item *it = items[i];
      items[i] = items[ok];
      items[ok++] = it;
    }
  }
  return ok;
}

/* after_commit of a committed batch, then its waiters woken (or the on_done of the items
 * nobody waits for). Each waiter has its own semaphore and wakes without taking a lock; a
 * waiter may free its item as soon as its post lands (an asynchronous item in its on_done),
 * so nothing of items[i] is read after it. */
static void answer_batch(struct h_gc *gc, struct h_gc_item *const *items, int n, int ok) {
  if (ok > 0 && gc->ops->after_commit != NULL) {
    gc->ops->after_commit(items, ok, gc->ctx);
  }
  for (int i = 0; i < n; i++) {
    if (items[i]->on_done != NULL) {
      items[i]->on_done(items[i]);
    } else {
      sem_post(&items[i]->done);
    }
  }
}

/* Frees an answered batch, with what prepare left for its write: on the answering thread,
 * off the committer's path. */
static void batch_free(struct h_gc *gc, struct batch *b) {
  release(gc, &b->state);
  free(b);
}

static void *answerer(void *arg) {
  struct h_gc *gc = arg;
  pthread_setname_np(pthread_self(), "gc-answer"); /* top -H, perf --sort comm */
  pthread_mutex_lock(&gc->amu);
  for (;;) {
    while (gc->answers.head == NULL && !gc->astop) {
      pthread_cond_wait(&gc->answer, &gc->amu);
    }
    struct batch *a = batches_pop(&gc->answers);
    if (a == NULL) {
      break; /* stopping and drained */
    }
    pthread_mutex_unlock(&gc->amu);
    answer_batch(gc, a->items, a->n, a->ok);
    batch_free(gc, a);
    pthread_mutex_lock(&gc->amu);
  }
  pthread_mutex_unlock(&gc->amu);
  return NULL;
}

/* Hands a written batch to the answering thread (which frees it), or answers it here when
 * that thread could not start. */
static void hand_over(struct h_gc *gc, struct batch *b) {
  if (!gc->answering) {
    answer_batch(gc, b->items, b->n, b->ok);
    batch_free(gc, b);
    return;
  }
  pthread_mutex_lock(&gc->amu);
  batches_push(&gc->answers, b);
  pthread_cond_signal(&gc->answer);
  pthread_mutex_unlock(&gc->amu);
}

/* Waits (mu held) up to wait_us for the batch to fill once something is queued. */
static void linger(struct h_gc *gc) {
  if (gc->opt.wait_us <= 0) {
    return;
  }
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  long ns = until.tv_nsec + (long)gc->opt.wait_us * 1000L;
  until.tv_sec += ns / 1000000000L;
  until.tv_nsec = ns % 1000000000L;
  while (!gc->stopping && gc->queued < gc->opt.max_batch &&
         pthread_cond_timedwait(&gc->work, &gc->mu, &until) != ETIMEDOUT) {
  }
}

/* Takes (mu held) what is queued, up to max_batch, as a new batch; NULL when nothing is. */
static struct batch *take_queued(struct h_gc *gc) {
  linger(gc);
  if (gc->head == NULL) {
    return NULL; /* another thread took them while this one lingered */
  }
  int n = gc->queued < gc->opt.max_batch ? gc->queued : gc->opt.max_batch;
  struct batch *b = h_calloc(1, sizeof(*b) + (size_t)n * sizeof(b->items[0]));
  while (gc->head != NULL && b->n < n) {
    b->items[b->n++] = gc->head;
    gc->head = gc->head->next;
    gc->queued--;
  }
  if (gc->head == NULL) {
    gc->tail = NULL;
  } else {
    pthread_cond_signal(&gc->work); /* more than max_batch: another committer may take them */
  }
  return b;
}

/* The preparing thread: while the committers write, it takes the next batch and runs
 * ops->prepare on it, holding at most one ready batch per committer (so batches still form
 * while a COMMIT runs). A batch whose prepare failed goes on unprepared, and its committer
 * prepares it again on its own connection. */
static void *preparer(void *arg) {
  struct h_gc *gc = arg;
  pthread_setname_np(pthread_self(), "gc-prepare"); /* top -H, perf --sort comm */
  PGconn *conn = NULL;
  pthread_mutex_lock(&gc->mu);
  for (;;) {
    while ((gc->head == NULL || gc->nready >= gc->running) &&
           !(gc->stopping && gc->head == NULL)) {
      pthread_cond_wait(&gc->work, &gc->mu);
    }
    if (gc->head == NULL) {
      break; /* stopping and drained */
    }
    struct batch *b = take_queued(gc);
    if (b == NULL) {
      continue;
    }
    pthread_mutex_unlock(&gc->mu);
    for (int i = 0; i < b->n; i++) {
      b->items[i]->result = H_OK;
    }
    b->prepared = ensure_conn(gc, &conn) == H_OK &&
                  gc->ops->prepare(conn, b->items, b->n, gc->ctx, &b->state) == H_OK;
    if (!b->prepared) {
      release(gc, &b->state); /* the committer prepares it again */
    }
    pthread_mutex_lock(&gc->mu);
    batches_push(&gc->ready, b);
    gc->nready++;
    pthread_cond_signal(&gc->readied);
  }
  gc->prepared_all = true;
  pthread_cond_broadcast(&gc->readied);
  pthread_mutex_unlock(&gc->mu);
  PQfinish(conn);
  return NULL;
}

/* The next batch for a committer (mu held, waits): the preparing thread's, or what is
 * queued; NULL once stopping and everything was taken. */
static struct batch *next_batch(struct h_gc *gc) {
  for (;;) {
    if (gc->pipelined) {
      while (gc->ready.head == NULL && !gc->prepared_all) {
        pthread_cond_wait(&gc->readied, &gc->mu);
      }
      struct batch *b = batches_pop(&gc->ready);
      if (b != NULL) {
        gc->nready--;
        pthread_cond_broadcast(&gc->work); /* room for the preparer */
      }
      return b;
    }
    while (gc->head == NULL && !gc->stopping) {
      pthread_cond_wait(&gc->work, &gc->mu);
    }
    if (gc->head == NULL) {
      return NULL; /* stopping and drained */
    }
    struct batch *b = take_queued(gc);
    if (b != NULL) {
      return b;
    }
  }
}

const double h_gc_write_bounds[H_GC_WRITE_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,  0.1,    0.25,  1.0};

static double seconds_since(const struct timespec *t0) {
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Counts a batch's write time (mu held). */
static void count_write(struct h_gc *gc, double seconds) {
  int b = 0;
  while (b < H_GC_WRITE_BUCKETS && seconds > h_gc_write_bounds[b]) {
    b++;
  }
  gc->write_counts[b]++;
  gc->write_seconds += seconds;
}

static void *committer(void *arg) {
  struct h_gc *gc = arg;
  pthread_setname_np(pthread_self(), "gc-commit"); /* top -H, perf --sort comm */
  PGconn *conn = NULL;
  pthread_mutex_lock(&gc->mu);
  struct batch *b;
  while ((b = next_batch(gc)) != NULL) {
    pthread_mutex_unlock(&gc->mu);
    bool retried = false;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    b->ok = run_batch(gc, &conn, b, &retried);
    double took = seconds_since(&t0);
    /* The counters are up to date before any waiter returns. */
    pthread_mutex_lock(&gc->mu);
    count_write(gc, took);
    gc->retried += retried;
    gc->batches++;
    gc->items += b->n;
    pthread_mutex_unlock(&gc->mu);
    hand_over(gc, b);
    pthread_mutex_lock(&gc->mu);
  }
  pthread_mutex_unlock(&gc->mu);
  PQfinish(conn);
  return NULL;
}

/* Starts the committers (mu held); false when none could start. */
static bool start(struct h_gc *gc) {
  if (gc->started) {
    return gc->running > 0;
  }
  gc->started = true;
  gc->answering = pthread_create(&gc->answerer, NULL, answerer, gc) == 0;
  gc->threads = h_calloc((size_t)gc->opt.threads, sizeof(*gc->threads));
  for (int i = 0; i < gc->opt.threads; i++) {
    if (pthread_create(&gc->threads[gc->running], NULL, committer, gc) == 0) {
      gc->running++;
    }
  }
  if (gc->running == 0) {
    h_log_error("group commit: no committer thread could start");
  } else if (gc->ops->prepare != NULL) { /* else the committers prepare their own batches */
    gc->pipelined = pthread_create(&gc->preparer, NULL, preparer, gc) == 0;
  }
  return gc->running > 0;
}

/* Queues item (its semaphore ready when it has no on_done); false when stopping or no
 * committer runs. */
static bool enqueue(struct h_gc *gc, struct h_gc_item *item) {
  pthread_mutex_lock(&gc->mu);
  if (gc->stopping || !start(gc)) {
    pthread_mutex_unlock(&gc->mu);
    item->result = H_ERR_UNAVAILABLE;
    return false;
  }
  item->next = NULL;
  if (item->on_done == NULL) {
    sem_init(&item->done, 0, 0);
  }
  bool was_empty = gc->head == NULL;
  if (gc->tail != NULL) {
    gc->tail->next = item;
  } else {
    gc->head = item;
  }
  gc->tail = item;
  gc->queued++;
  /* A wake-up only for a thread that can act on this item: a committer or the preparing
   * thread waiting for the queue to fill (it was empty; the preparer only with room for a
   * batch), or a batch lingering for more (wait_us). The preparer that waits for room
   * (a ready batch per committer) is woken by next_batch when a committer takes one:
   * woken for every item queued meanwhile, it went back to sleep each time, a context
   * switch per POST in the API and a futex call in the request's thread. */
  if (gc->opt.wait_us > 0 || (was_empty && (!gc->pipelined || gc->nready < gc->running))) {
    pthread_cond_signal(&gc->work);
  }
  pthread_mutex_unlock(&gc->mu);
  return true;
}

h_result h_gc_submit(struct h_gc *gc, struct h_gc_item *item) {
  item->on_done = NULL;
  if (!enqueue(gc, item)) {
    return item->result;
  }
  while (sem_wait(&item->done) != 0 && errno == EINTR) {
  }
  sem_destroy(&item->done);
  return item->result;
}

h_result h_gc_submit_async(struct h_gc *gc, struct h_gc_item *item) {
  return enqueue(gc, item) ? H_OK : item->result;
}

void h_gc_stats(struct h_gc *gc, long *batches, long *items, long *retried) {
  pthread_mutex_lock(&gc->mu);
  *batches = gc->batches;
  *items = gc->items;
  *retried = gc->retried;
  pthread_mutex_unlock(&gc->mu);
}

void h_gc_write_times(struct h_gc *gc, long counts[H_GC_WRITE_BUCKETS + 1], double *sum_s) {
  pthread_mutex_lock(&gc->mu);
  memcpy(counts, gc->write_counts, sizeof(gc->write_counts));
  *sum_s = gc->write_seconds;
  pthread_mutex_unlock(&gc->mu);
}

int h_gc_queued(struct h_gc *gc) {
  pthread_mutex_lock(&gc->mu);
  int n = gc->queued;
  pthread_mutex_unlock(&gc->mu);
  return n;
}

void h_gc_destroy(struct h_gc *gc) {
  if (gc == NULL) {
    return;
  }
  pthread_mutex_lock(&gc->mu);
  gc->stopping = true; /* the preparer and the committers drain the queue, then exit */
  pthread_cond_broadcast(&gc->work);
  pthread_mutex_unlock(&gc->mu);
  if (gc->pipelined) {
    pthread_join(gc->preparer, NULL);
  }
  for (int i = 0; i < gc->running; i++) {
    pthread_join(gc->threads[i], NULL);
  }
  if (gc->answering) { /* every batch is handed over: the answerer drains them, then exits */
    pthread_mutex_lock(&gc->amu);
    gc->astop = true;
    pthread_cond_signal(&gc->answer);
    pthread_mutex_unlock(&gc->amu);
    pthread_join(gc->answerer, NULL);
  }
  if (gc->batches > 0) {
    h_log_info("group commit: %ld item(s) in %ld transaction(s), %ld batch(es) retried one by"
               " one", gc->items, gc->batches, gc->retried);
  }
  free(gc->threads);
  pthread_cond_destroy(&gc->work);
  pthread_cond_destroy(&gc->readied);
  pthread_mutex_destroy(&gc->mu);
  pthread_cond_destroy(&gc->answer);
  pthread_mutex_destroy(&gc->amu);
  free((char *)gc->opt.db.url);
  free((char *)gc->opt.db.application_name);
  free(gc);
}
