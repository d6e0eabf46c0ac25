/* park.c - see park.h. */
#include "http/park.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/alloc.h"

/* The access handler a daemon was started with (ulfius's), and whether it can suspend. */
struct access {
  MHD_AccessHandlerCallback handler;
  void *cls;
  bool can_suspend;
  struct access *next;
};

/* Every daemon's, freed at exit (a handful: the API's listener and its probes). */
static struct access *accesses;
static pthread_mutex_t accesses_mu = PTHREAD_MUTEX_INITIALIZER;

/* The dispatch running on this thread: its connection, whether it can park, whether it did;
 * and the requests parked on this thread (a connection is served by one thread, so a parked
 * request comes back on the thread that parked it). */
static _Thread_local struct MHD_Connection *current;
static _Thread_local bool current_can_suspend;
static _Thread_local bool current_parked;
static _Thread_local struct h_req *held;
static atomic_int parked_count;

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *connection,
                                      const char *url, const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls) {
  const struct access *a = cls;
  current = connection;
  current_can_suspend = a->can_suspend;
  current_parked = false;
  enum MHD_Result r = a->handler(a->cls, connection, url, method, version, upload_data,
                                 upload_data_size, con_cls);
  if (current_parked) {
    r = MHD_YES; /* ulfius could not queue the unsendable response: the request waits */
  }
  current = NULL;
  current_parked = false;
  return r;
}

/* Binds ulfius's call (park.h says why): the same daemon, with access_handler in front. */
struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
                                    MHD_AcceptPolicyCallback apc, void *apc_cls,
                                    MHD_AccessHandlerCallback dh, void *dh_cls, ...) {
  struct access *a = h_calloc(1, sizeof(*a));
  a->handler = dh;
  a->cls = dh_cls;
  a->can_suspend = (flags & MHD_ALLOW_SUSPEND_RESUME) != 0;
  va_list ap;
  va_start(ap, dh_cls);
  struct MHD_Daemon *d = MHD_start_daemon_va(flags, port, apc, apc_cls, access_handler, a, ap);
  va_end(ap);
  if (d == NULL) {
    free(a);
    return NULL;
  }
  pthread_mutex_lock(&accesses_mu);
  a->next = accesses;
  accesses = a;
  pthread_mutex_unlock(&accesses_mu);
  return d;
}

__attribute__((destructor)) static void free_accesses(void) {
  while (accesses != NULL) {
    struct access *a = accesses;
    accesses = a->next;
    free(a);
  }
}

bool h_park_possible(const struct h_req *rq) {
  return !rq->probe && current != NULL && current_can_suspend;
}

void h_park(struct h_req *rq, void (*resume)(struct h_req *rq, void *state), void *state) {
  rq->parked = true;
  rq->park_conn = current;
  rq->park_resume = resume;
  rq->park_state = state;
  current_parked = true;
  atomic_fetch_add(&parked_count, 1);
  MHD_suspend_connection(current);
}

void h_park_cancel(struct h_req *rq) {
  /* Resumed at once: the reply this pass queues is sent when the thread takes it up again
   * (MHD queues a response on a suspended connection). */
  MHD_resume_connection(rq->park_conn);
  rq->parked = false;
  rq->park_conn = NULL;
  current_parked = false;
  atomic_fetch_sub(&parked_count, 1);
}

void h_park_wake(struct h_req *rq) {
  struct MHD_Connection *connection = rq->park_conn;
  atomic_store(&rq->park_woken, true); /* before the resume: rq is its thread's from there */
  MHD_resume_connection(connection);
}

void h_park_hold(struct h_req *rq) {
  if (u_map_count(rq->response->map_header) > 0) {
    rq->park_headers = h_malloc(sizeof(*rq->park_headers));
    u_map_init(rq->park_headers);
    u_map_copy_into(rq->park_headers, rq->response->map_header);
  }
  rq->response = NULL;
  rq->park_next = held;
  held = rq;
}

/* Takes *pp off the kept ones, with its kept headers put on response. */
static struct h_req *take(struct h_req **pp, struct _u_response *response) {
  struct h_req *rq = *pp;
  *pp = rq->park_next;
  rq->park_next = NULL;
  rq->parked = false;
  rq->response = response;
  if (rq->park_headers != NULL) {
    u_map_copy_into(response->map_header, rq->park_headers);
    u_map_clean_full(rq->park_headers);
    rq->park_headers = NULL;
  }
  atomic_fetch_sub(&parked_count, 1);
  return rq;
}

struct h_req *h_park_take(const struct _u_request *request, struct _u_response *response) {
  for (struct h_req **pp = &held; *pp != NULL; pp = &(*pp)->park_next) {
    if ((*pp)->request == request && (*pp)->park_conn == current) {
      return take(pp, response);
    }
  }
  return NULL;
}

/* The link to connection's kept rq once its work is done, or NULL. */
static struct h_req **closed(const struct MHD_Connection *connection) {
  for (struct h_req **pp = &held; *pp != NULL; pp = &(*pp)->park_next) {
    if ((*pp)->park_conn == connection) {
      return atomic_load(&(*pp)->park_woken) ? pp : NULL;
    }
  }
  return NULL;
}

bool h_park_closed_kept(const struct MHD_Connection *connection) {
  return held != NULL && closed(connection) != NULL;
}

struct h_req *h_park_take_closed(const struct MHD_Connection *connection,
                                 struct _u_response *response) {
  struct h_req **pp = closed(connection);
  return pp != NULL ? take(pp, response) : NULL;
}

int h_park_count(void) { return atomic_load(&parked_count); }
