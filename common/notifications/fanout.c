/* fanout.c - batched fan-out of broadcasts. */
#include "notifications/fanout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "inbox/stream_bus.h"
#include "notifications/broadcast_repo.h"
#include "notifications/broadcast_service.h"
#include "store/db.h"
#include "core/log.h"
#include "notifications/notification_repo.h"
#include "notifications/notify.h"

/* How many times in a row a batch is run again after a recipient was deleted under it. */
#define MAX_RERUNS 3

struct batch {
  const struct h_broadcast_job *job;
  const json_t *tpl;                /* the template, loaded once (may be NULL) */
  struct h_notify_request req;      /* the send fields, user_id set per recipient */
  struct h_push_list push;
  char (*in_app)[37];               /* in-app recipients of this batch (for the streams) */
  int n_in_app;
  char cursor[37];                  /* last recipient of this batch */
  int created;
  bool done;
  struct h_notify_error err;        /* set when the broadcast must fail */
  const struct h_flood_rules *flood; /* borrowed, may be NULL */
  bool failed;
};

/* Prepares one recipient's notification into *p (req: its copy of the send fields; rc: the
 * recipient, read with the batch's others); *ready tells whether it is to be written (a user
 * deleted meanwhile is skipped). */
static h_result prepare_one(PGconn *conn, struct batch *b, struct h_notify_request *req,
                            const struct h_recipient_row *rc, struct h_notify_prepared *p,
                            bool *ready) {
  h_result r = h_notify_prepare_for(conn, req, b->tpl, b->flood, rc, p, &b->err);
  *ready = r == H_OK;
  if (r == H_ERR_UNPROCESSABLE && strcmp(b->err.code, "user_not_found") == 0) {
    r = H_OK;
  } else if (r == H_ERR_UNPROCESSABLE) {
    b->failed = true;
  }
  return r;
}

/* Prepares the n recipients in ids (read in one statement, with their preferences) and
 * writes their notifications in one go; the ids to push are collected in b->push.
 * H_ERR_NOT_FOUND when a recipient was deleted between its read and the write (the batch is
 * to be rolled back and run again). */
static h_result write_batch(PGconn *conn, struct batch *b, const PGresult *ids, int n) {
  size_t m = (size_t)(n > 0 ? n : 1);
  struct h_notify_request *reqs = h_malloc(m * sizeof(*reqs));
  struct h_notify_prepared *preps = h_calloc(m, sizeof(*preps));
  struct h_notify_prepared **ready = h_malloc(m * sizeof(*ready));
  struct h_recipient_row *rc = h_calloc(m, sizeof(*rc));
  const char **uids = h_malloc(m * sizeof(*uids));
  const char **dues = h_malloc(m * sizeof(*dues));
  const char **cats = h_malloc(m * sizeof(*cats));
  for (int i = 0; i < n; i++) {
    uids[i] = PQgetvalue(ids, i, 0);
    dues[i] = b->req.send_at;
    cats[i] = b->req.category;
  }
  int nready = 0;
  bool *devices = h_malloc(m * sizeof(*devices));
  bool need = h_notify_needs_devices(&b->req); /* one request for every recipient */
  for (int i = 0; i < n; i++) {
    devices[i] = need;
  }
  h_result r =
      n > 0 ? h_notif_repo_recipients(conn, uids, dues, cats, devices, n, rc, NULL) : H_OK;
  free(devices);
  for (int i = 0; r == H_OK && i < n; i++) {
    bool ok = false;
    reqs[i] = b->req;
    reqs[i].user_id = uids[i];
    r = prepare_one(conn, b, &reqs[i], &rc[i], &preps[i], &ok);
    if (ok) {
      ready[nready++] = &preps[i];
    }
    snprintf(b->cursor, sizeof(b->cursor), "%s", PQgetvalue(ids, i, 0));
  }
  if (r == H_OK && nready > 0) {
    r = h_notify_write(conn, ready, nready);
  }
  b->in_app = h_realloc(b->in_app, (size_t)(nready > 0 ? nready : 1) * sizeof(*b->in_app));
  b->n_in_app = 0;
  for (int i = 0; r == H_OK && i < nready; i++) {
    if (ready[i]->in_app) {
      snprintf(b->in_app[b->n_in_app++], 37, "%s", ready[i]->req->user_id);
    }
    const struct h_push_list *l = &ready[i]->push;
    for (size_t j = 0; j < l->n; j++) {
      h_push_list_add(&b->push, l->items[j].queue, l->items[j].id, l->items[j].due);
    }
  }
  b->created = r == H_OK ? nready : 0;
  for (int i = 0; i < n; i++) {
    h_notify_prepared_free(&preps[i]);
    json_decref(rc[i].prefs);
  }
  free(reqs);
  free(preps);
  free(ready);
  free(rc);
  free(uids);
  free(dues);
  free(cats);
  return r;
}

/* One batch in one transaction. */
static h_result run_batch(PGconn *conn, struct batch *b, const struct h_fanout_options *opt) {
  PGresult *ids = NULL;
  b->created = 0;
  b->cursor[0] = '\0';
  h_result r = h_db_begin(conn);
  if (r == H_OK) {
    r = h_broadcast_repo_next_batch(conn, b->job, opt->batch, &ids);
  }
  int n = r == H_OK ? PQntuples(ids) : 0;
  if (r == H_OK) {
    r = write_batch(conn, b, ids, n);
  }
  PQclear(ids);
  b->done = n < opt->batch;
  if (r == H_OK) {
    r = h_broadcast_repo_progress(conn, b->job, b->cursor[0] ? b->cursor : NULL, b->created,
                                  b->done, opt->lease_s);
  }
  if (r == H_OK) {
    r = h_db_commit(conn);
  }
  if (r != H_OK) {
    h_db_rollback(conn);
    h_push_list_clear(&b->push);
  }
  return r;
}

/* After COMMIT: the batch's in-app recipients to the notification streams. */
static void announce(struct h_redis *r, struct batch *b, const struct h_fanout_options *opt) {
  const char **users = h_malloc((size_t)(b->n_in_app > 0 ? b->n_in_app : 1) * sizeof(*users));
  for (int i = 0; i < b->n_in_app; i++) {
    users[i] = b->in_app[i];
  }
  h_stream_publish_via(r, opt->stream_shards, H_STREAM_KIND_FEED, users, (size_t)b->n_in_app);
  free(users);
  b->n_in_app = 0;
}

/* Marks the job failed with err's message (in its own statement). */
static void fail(PGconn *conn, const struct h_broadcast_job *job, const struct h_notify_error *e) {
  char msg[512];
  snprintf(msg, sizeof(msg), "%s: %s", e->code, e->message);
  h_broadcast_repo_fail(conn, job, msg);
  h_log_warning("h_fanout: broadcast %s failed: %s", job->id, msg);
}

/* Runs batches until the job is done, fails, loses its lease or stop is set. */
static h_result run_job(PGconn *conn, struct h_redis *r, struct h_broadcast_job *job,
                        const struct h_fanout_options *opt) {
  struct batch b = {.job = job, .flood = opt->flood};
  json_t *tpl = NULL;
  h_result rc = H_OK;
  if (!h_broadcast_request_read(job->request, &b.req)) {
    snprintf(b.err.code, sizeof(b.err.code), "invalid_request");
    snprintf(b.err.message, sizeof(b.err.message),
             "the stored request lacks a valid category, priority, channel list or content");
    rc = H_ERR_UNPROCESSABLE;
  } else if (b.req.template_key != NULL) {
    rc = h_notify_load_template(conn, b.req.template_key, &tpl, &b.err);
  }
  b.req.broadcast_id = job->id;
  b.tpl = tpl;
  b.failed = rc == H_ERR_UNPROCESSABLE;
  int reruns = 0;
  while (rc == H_OK && !b.done && !(opt->stop != NULL && atomic_load(opt->stop))) {
    rc = run_batch(conn, &b, opt);
    if (rc == H_ERR_NOT_FOUND && ++reruns <= MAX_RERUNS) {
      b.done = false;
      rc = H_OK; /* a recipient was deleted meanwhile: the batch again, without them */
      continue;
    }
    if (rc == H_OK) {
      reruns = 0;
      snprintf(job->cursor, sizeof(job->cursor), "%s", b.cursor[0] ? b.cursor : job->cursor);
      h_push_list_send(r, &b.push, NULL);
      h_push_list_clear(&b.push);
      announce(r, &b, opt);
    }
  }
  if (b.failed) {
    fail(conn, job, &b.err);
  } else if (rc == H_OK && !b.done) {
    h_broadcast_repo_release(conn, job); /* stopping: let the next start resume at once */
  }
  json_decref(tpl);
  free(b.in_app);
  return rc == H_ERR_CONFLICT || b.failed ? H_OK : rc; /* lease lost: someone else has it */
}

h_result h_fanout_run_one(PGconn *conn, struct h_redis *r, const struct h_fanout_options *opt,
                          bool *worked) {
  struct h_broadcast_job job = {{0}, {0}, {0}, NULL};
  *worked = false;
  h_result rc = h_broadcast_repo_claim(conn, opt->lease_s, &job);
  if (rc == H_ERR_NOT_FOUND) {
    return H_OK;
  }
  if (rc != H_OK) {
    return rc;
  }
  *worked = true;
  rc = run_job(conn, r, &job, opt);
  json_decref(job.request);
  return rc;
}
