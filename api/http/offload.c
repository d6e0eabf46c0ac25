/* offload.c - see offload.h. */
#include "http/offload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/log.h"
#include "http/park.h"

/* A request handed over: its handler, and the response the pool's thread writes into (the
 * one ulfius gave the first pass is gone when the request comes back, with another). */
struct h_offload_job {
  struct h_offload *pool;
  struct h_req *rq;
  void (*run)(struct h_req *rq);
  struct _u_response response;
  struct h_offload_job *next;
};

struct h_offload {
  pthread_mutex_t mu;
  pthread_cond_t wake;
  struct h_offload_job *head, *tail; /* handed over, not yet taken, oldest first */
  bool stopping;
  int threads;
  pthread_t *ids;
  int queued;      /* the jobs from head to tail */
  atomic_int busy; /* jobs being run */
  atomic_ulong ran;
};

/* On the pool's thread: the handler into the job's response, then the request's wake-up. */
static void run_job(struct h_offload_job *j) {
  struct h_req *rq = j->rq;
  struct h_offload *o = j->pool;
  atomic_fetch_add(&o->busy, 1);
  rq->response = &j->response;
  j->run(rq);
  rq->response = NULL;
  atomic_fetch_add(&o->ran, 1);
  atomic_fetch_sub(&o->busy, 1);
  h_park_wake(rq); /* rq and j belong to the connection's thread from here */
}

static void *worker(void *arg) {
  struct h_offload *o = arg;
  pthread_setname_np(pthread_self(), "offload"); /* top -H, perf --sort comm */
  pthread_mutex_lock(&o->mu);
  for (;;) {
    while (o->head == NULL && !o->stopping) {
      pthread_cond_wait(&o->wake, &o->mu);
    }
    struct h_offload_job *j = o->head;
    if (j == NULL) { /* stopping, and nothing left */
      break;
    }
    o->head = j->next;
    if (o->head == NULL) {
      o->tail = NULL;
    }
    o->queued--;
    pthread_mutex_unlock(&o->mu);
    run_job(j);
    pthread_mutex_lock(&o->mu);
  }
  pthread_mutex_unlock(&o->mu);
  return NULL;
}

struct h_offload *h_offload_start(int threads) {
  if (threads <= 0) {
    return NULL;
  }
  struct h_offload *o = h_calloc(1, sizeof(*o));
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->wake, NULL);
  o->ids = h_calloc((size_t)threads, sizeof(*o->ids));
  while (o->threads < threads && pthread_create(&o->ids[o->threads], NULL, worker, o) == 0) {
    o->threads++;
  }
  if (o->threads < threads) {
    h_log_error("h_offload_start: %d of %d threads started", o->threads, threads);
  }
  if (o->threads == 0) {
    h_offload_free(o);
    return NULL;
  }
  return o;
}

void h_offload_stop(struct h_offload *o) {
  if (o == NULL) {
    return;
  }
  pthread_mutex_lock(&o->mu);
  o->stopping = true;
  pthread_cond_broadcast(&o->wake);
  int threads = o->threads;
  o->threads = 0;
  pthread_mutex_unlock(&o->mu);
  for (int i = 0; i < threads; i++) {
    pthread_join(o->ids[i], NULL);
  }
}

void h_offload_free(struct h_offload *o) {
  if (o == NULL) {
    return;
  }
  h_offload_stop(o);
  pthread_cond_destroy(&o->wake);
  pthread_mutex_destroy(&o->mu);
  free(o->ids);
  free(o);
}

/* Back on the connection's thread (park.h, step 3): the pool's response becomes the one
 * ulfius sends; the middleware adds its headers after this. */
static void offload_resume(struct h_req *rq, void *state) {
  struct h_offload_job *j = state;
  struct _u_response *to = rq->response;
  struct _u_response *from = &j->response;
  to->status = from->status;
  u_map_copy_into(to->map_header, from->map_header);
  free(to->binary_body);
  to->binary_body = from->binary_body; /* both from orcania's allocator (h_alloc_install) */
  to->binary_body_length = from->binary_body_length;
  from->binary_body = NULL;
  from->binary_body_length = 0;
  ulfius_clean_response(from);
  free(j);
}

bool h_offload_begin(struct h_offload *o, struct h_req *rq, void (*run)(struct h_req *rq)) {
  if (o == NULL || !h_park_possible(rq)) {
    return false;
  }
  pthread_mutex_lock(&o->mu);
  bool stopping = o->stopping;
  pthread_mutex_unlock(&o->mu);
  if (stopping) {
    return false;
  }
  struct h_offload_job *j = h_calloc(1, sizeof(*j));
  if (ulfius_init_response(&j->response) != U_OK) {
    free(j);
    return false;
  }
  j->pool = o;
  j->rq = rq;
  j->run = run;
  rq->offload = j;
  h_park(rq, offload_resume, j);
  return true;
}

void h_offload_submit(struct h_req *rq) {
  struct h_offload_job *j = rq->offload;
  if (j == NULL) {
    return;
  }
  rq->offload = NULL;
  struct h_offload *o = j->pool;
  pthread_mutex_lock(&o->mu);
  if (o->stopping) { /* since h_offload_begin: its threads may be gone, so run it here */
    pthread_mutex_unlock(&o->mu);
    run_job(j);
    return;
  }
  if (o->tail != NULL) {
    o->tail->next = j;
  } else {
    o->head = j;
  }
  o->tail = j;
  o->queued++;
  pthread_cond_signal(&o->wake);
  pthread_mutex_unlock(&o->mu);
}

void h_offload_stats(struct h_offload *o, struct h_offload_stats *out) {
  *out = (struct h_offload_stats){0};
  if (o == NULL) {
    return;
  }
  pthread_mutex_lock(&o->mu);
  out->threads = o->threads;
  out->queued = o->queued;
  pthread_mutex_unlock(&o->mu);
  out->busy = atomic_load(&o->busy);
  out->ran = atomic_load(&o->ran);
}
