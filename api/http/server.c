/* server.c - starting and stopping ulfius in epoll thread-pool mode.
 *
 * ulfius_start_framework() runs libmicrohttpd thread-per-connection with select();
 * we start MHD ourselves (DESIGN.md "The server under load") and therefore pass what
 * ulfius would have: the completed-request notification, the URI logger, the bind
 * address and jansson's allocators (h_alloc_install). */
#include "http/server.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <ulfius.h>
#include <unistd.h>

#include "core/alloc.h"
#include "app/background.h"
#include "core/log.h"
#include "notifications/notification_service.h"
#include "http/listener.h"
#include "http/middleware.h"
#include "http/offload.h"
#include "http/park.h"
#include "http/routes.h"
#include "http/stream_conn.h"
#include "inbox/stream_hub.h"
#include "users/profile_cache.h"

struct h_server {
  struct h_app *app;
  struct _u_instance instance;
  struct sockaddr_in bind;
  unsigned int port;
  struct h_listener *listener; /* epoll mode: the listening socket and its thread */
  struct h_background *background; /* sweeper and fan-out threads */
  struct h_pg_listen *profiles;     /* notices that users changed (users/profile_cache.h) */
  struct _u_instance probe;         /* HERALD_PROBE_PORT: probes on their own threads */
  struct sockaddr_in probe_bind;
  bool probe_on;
  unsigned int probe_port;
  atomic_int connections; /* Open connections (epoll mode), for the drain */
  atomic_ulong started;   /* connections MHD has started, ever */
  unsigned long handed;   /* connections the listener handed to MHD, ever (once closed) */
};

/* MHD's connection notification: counts the open connections and records them for the
 * notification stream (http/stream_conn.h). */
static void count_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                             enum MHD_ConnectionNotificationCode toe) {
  (void)socket_context;
  struct h_server *s = cls;
  bool started = toe == MHD_CONNECTION_NOTIFY_STARTED;
  atomic_fetch_add(&s->connections, started ? 1 : -1);
  if (started) {
    atomic_fetch_add(&s->started, 1);
    h_stream_conn_started(connection);
  } else {
    h_stream_conn_closed(connection);
  }
}

/* Starts inst with an epoll pool of threads: listening on bind itself (the probe instance)
 * or, with bind NULL, serving what an h_listener hands it (the main instance; why in
 * http/listener.c). s counts the main instance's connections for the drain and the
 * listener (NULL for the probe instance). */
static h_result start_pool(struct _u_instance *inst, struct sockaddr_in *bind, int threads,
                           int max_connections, const struct h_config *cfg, struct h_server *s) {
  struct MHD_OptionItem ops[12] = {
    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)h_mw_request_completed, NULL},
    {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
    {MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
    {MHD_OPTION_CONNECTION_LIMIT, max_connections, NULL},
    {MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->http_per_ip_connections, NULL},
    {MHD_OPTION_CONNECTION_TIMEOUT, cfg->http_timeout_s, NULL},
    {MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->http_connection_memory_bytes, NULL},
  };
  size_t n = 0;
  while (ops[n].option != MHD_OPTION_END) { /* the entries above; the rest are zero (END) */
    n++;
  }
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;
  if (bind != NULL) {
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, bind};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL};
  } else {
    flags |= MHD_USE_NO_LISTEN_SOCKET;
  }
  if (s != NULL) {
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)count_connection,
                                       s};
    /* Suspend/resume: an open notification stream holds no thread (docs/streaming.md). */
    flags |= MHD_ALLOW_SUSPEND_RESUME;
  }
  ops[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
  return ulfius_start_framework_with_mhd_options(inst, flags, ops) == U_OK ? H_OK
                                                                           : H_ERR_UNAVAILABLE;
}

/* The main instance: the listening socket first (a bind error is reported as before), then
 * the pool, then the thread that feeds it. */
static h_result start_epoll(struct h_server *s) {
  const struct h_config *cfg = s->app->cfg;
  if (h_listener_open(&s->bind, 1024, &s->listener) != H_OK) {
    return H_ERR_UNAVAILABLE;
  }
  h_result r = start_pool(&s->instance, NULL, cfg->http_threads, cfg->http_max_connections, cfg, s);
  if (r == H_OK) {
    r = h_listener_start(s->listener, s->instance.mhd_daemon, &s->connections,
                         cfg->http_max_connections);
    if (r != H_OK) {
      ulfius_stop_framework(&s->instance);
    }
  }
  if (r != H_OK) {
    h_listener_close(s->listener);
    s->listener = NULL;
    return r;
  }
  s->port = h_listener_port(s->listener);
  return H_OK;
}

/* HERALD_PROBE_PORT: /healthz, /readyz and /metrics on their own HERALD_PROBE_THREADS
 * threads, so an orchestrator's probes answer while every API thread waits on PostgreSQL. */
static h_result start_probes(struct h_server *s) {
  const struct h_config *cfg = s->app->cfg;
  s->probe_bind = s->bind;
  s->probe_bind.sin_port = htons((uint16_t)cfg->probe_port);
  if (ulfius_init_instance(&s->probe, (unsigned int)cfg->probe_port, &s->probe_bind, NULL) !=
      U_OK) {
    return H_ERR_INTERNAL;
  }
  s->probe.allowed_post_processor = U_POST_PROCESS_NONE;
  /* One byte over the limit so an oversize body is seen; ulfius buffers no more. */
  s->probe.max_post_body_size = H_PROBE_MAX_BODY + 1;
  h_routes_register_probes(&s->probe, s->app);
  if (start_pool(&s->probe, &s->probe_bind, cfg->probe_threads, 64, cfg, NULL) != H_OK) {
    h_log_error("h_server_start: cannot listen for probes on %s:%d", cfg->http_bind,
                cfg->probe_port);
    ulfius_clean_instance(&s->probe);
    return H_ERR_UNAVAILABLE;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(s->probe.mhd_daemon, MHD_DAEMON_INFO_BIND_PORT);
  s->probe_port = info != NULL ? info->port : (unsigned int)cfg->probe_port;
  s->probe_on = true;
  return H_OK;
}

h_result h_server_start(struct h_app *app, struct h_server **out) {
  const struct h_config *cfg = app->cfg;
  struct h_server *s = h_calloc(1, sizeof(*s));
  s->app = app;
  *out = NULL;
  s->bind.sin_family = AF_INET;
  s->bind.sin_port = htons((uint16_t)cfg->http_port);
  if (inet_pton(AF_INET, cfg->http_bind, &s->bind.sin_addr) != 1) {
    h_log_error("HERALD_HTTP_BIND: '%s' is not an IPv4 address", cfg->http_bind);
    free(s);
    return H_ERR_INVALID;
  }
  /* ulfius refuses port 0; MHD binds to s->bind, whose port 0 picks a free one. */
  unsigned int port = cfg->http_port > 0 ? (unsigned int)cfg->http_port : 1;
  if (ulfius_init_instance(&s->instance, port, &s->bind, NULL) != U_OK) {
    free(s);
    return H_ERR_INTERNAL;
  }
  s->instance.port = (unsigned int)cfg->http_port;
  /* One byte over the limit so an oversize body is seen (ulfius truncates silently). */
  s->instance.max_post_body_size = (size_t)cfg->max_body_bytes + 1;
  s->instance.timeout = (unsigned int)cfg->http_timeout_s;
  s->instance.allowed_post_processor = U_POST_PROCESS_NONE;
  h_routes_register(&s->instance, app);
  if (app->notify_gc == NULL) {
    app->notify_gc = h_notification_gc_create(app); /* NULL when HERALD_GROUP_COMMIT is off */
  }

  h_result r;
  if (strcmp(cfg->http_mode, "select") == 0) {
    r = ulfius_start_framework(&s->instance) == U_OK ? H_OK : H_ERR_UNAVAILABLE;
    const union MHD_DaemonInfo *info =
        r == H_OK ? MHD_get_daemon_info(s->instance.mhd_daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    s->port = info != NULL ? info->port : (unsigned int)cfg->http_port;
  } else {
    r = start_epoll(s);
  }
  if (r != H_OK) {
    h_log_error("h_server_start: cannot listen on %s:%d", cfg->http_bind, cfg->http_port);
    ulfius_clean_instance(&s->instance);
    free(s);
    return r;
  }
  if (cfg->probe_port > 0 && start_probes(s) != H_OK) {
    h_listener_close(s->listener);
    ulfius_stop_framework(&s->instance);
    ulfius_clean_instance(&s->instance);
    free(s);
    return H_ERR_UNAVAILABLE;
  }
  s->background = h_background_start(app);
  s->profiles = h_profile_cache_listen(app);
  if (strcmp(cfg->http_mode, "epoll") == 0 && cfg->stream_max > 0) {
    app->streams = h_stream_hub_start(app); /* select mode cannot suspend: no stream */
  }
  if (strcmp(cfg->http_mode, "epoll") == 0) { /* select mode cannot park: nothing to offload */
    app->offload = h_offload_start(cfg->http_offload_threads);
  }
  h_log(H_LOG_INFO, "event", NULL, "listening on http://%s:%u (%s, %d threads, %d offload)",
        cfg->http_bind, s->port, cfg->http_mode, cfg->http_threads,
        app->offload != NULL ? cfg->http_offload_threads : 0);
  *out = s;
  return H_OK;
}

unsigned int h_server_port(const struct h_server *server) { return server->port; }

unsigned int h_server_probe_port(const struct h_server *server) {
  return server->probe_on ? server->probe_port : 0;
}

/* True once no request runs and either no connection is left (every one the listener
 * handed over has started, and closed) or none has carried a request for 300 ms (idle
 * keep-alive connections are then closed by the stop). */
static bool drained(struct h_server *s, int *quiet_ms) {
  if (atomic_load(&s->app->in_flight) > 0) {
    *quiet_ms = 0;
    return false;
  }
  if (strcmp(s->app->cfg->http_mode, "epoll") == 0 && atomic_load(&s->connections) == 0 &&
      atomic_load(&s->started) >= s->handed) {
    return true;
  }
  *quiet_ms += 20;
  return *quiet_ms >= 300;
}

/* Stops accepting without resetting anyone: what the backlog holds is served too. In
 * select mode (one MHD thread, no pool to race with) MHD_quiesce_daemon() hands back its
 * socket, which still listens, so the kernel keeps completing handshakes that nobody would
 * accept and closing it at once would reset them. */
static void stop_listening(struct h_server *s) {
  if (s->listener != NULL) {
    s->handed = h_listener_close(s->listener);
    s->listener = NULL;
    return;
  }
  struct MHD_Daemon *d = s->instance.mhd_daemon;
  MHD_socket fd = MHD_quiesce_daemon(d);
  if (fd == MHD_INVALID_SOCKET) {
    return;
  }
  int adopted = h_listener_adopt_backlog(fd, d);
  close(fd);
  h_log_info("h_server_stop: listener closed, %d queued connection(s) adopted", adopted);
}

/* Waits up to limit_ms for every parked request to be answered. */
static void wait_unparked(long limit_ms) {
  struct timespec tick = {0, 20 * 1000 * 1000};
  for (long ms = 0; h_park_count() > 0 && ms < limit_ms; ms += 20) {
    nanosleep(&tick, NULL);
  }
}

void h_server_stop(struct h_server *s) {
  if (s == NULL) {
    return;
  }
  /* Stop listening, answer every further request on an open keep-alive connection
   * with Connection: close, and wait until the connections are gone or quiet, so a proxy
   * never sees a connection reset under a request it already sent. */
  atomic_store(&s->app->stopping, true);
  stop_listening(s);
  struct timespec tick = {0, 20 * 1000 * 1000};
  int waited_ms = 0, quiet_ms = 0, limit_ms = s->app->cfg->shutdown_timeout_s * 1000;
  while (waited_ms < limit_ms && !drained(s, &quiet_ms)) {
    nanosleep(&tick, NULL);
    waited_ms += 20;
  }
  if (atomic_load(&s->app->in_flight) > 0) {
    h_log_warning("h_server_stop: %d requests still running after %d s",
                  atomic_load(&s->app->in_flight), s->app->cfg->shutdown_timeout_s);
  }
  /* A parked POST (http/park.h) is answered by the group commit, which answers every send
   * within its statement timeout; MHD must not stop under it, it would close the suspended
   * connection that the answer resumes. The offload pool runs what it was handed, however
   * long a provider takes, and wakes each one. */
  wait_unparked(2L * s->app->cfg->db_statement_timeout_ms + 5000);
  h_offload_stop(s->app->offload);
  wait_unparked(5000); /* what it woke last, answered by its connection's thread */
  if (h_park_count() > 0) {
    h_log_error("h_server_stop: %d parked request(s) still unanswered", h_park_count());
  }
  h_background_stop(s->background);
  h_profile_cache_unlisten(s->profiles);
  /* MHD must not stop with a suspended connection: end every stream first. */
  int held = h_stream_hub_close_all(s->app->streams, 2000);
  if (held > 0) {
    h_log_warning("h_server_stop: %d stream connection(s) still open", held);
  }
  nanosleep(&tick, NULL); /* let the last replies leave their sockets */
  ulfius_stop_framework(&s->instance);
  h_offload_free(s->app->offload);
  s->app->offload = NULL;
  h_stream_hub_stop(s->app->streams);
  s->app->streams = NULL;
  ulfius_clean_instance(&s->instance);
  if (s->probe_on) { /* probes answer until the very end */
    ulfius_stop_framework(&s->probe);
    ulfius_clean_instance(&s->probe);
  }
  free(s);
}

void h_server_block_signals(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);
}

int h_server_wait_for_signal(void) {
  sigset_t set;
  int sig = 0;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigwait(&set, &sig);
  return sig;
}
