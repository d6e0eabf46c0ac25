/* fanout.c - batched fan-out of broadcasts. */
#include "notifications/fanout.h"

#include <stdio.h>
#include <string.h>

#include "notifications/broadcast_repo.h"
#include "notifications/broadcast_service.h"
#include "store/db.h"
#include "core/log.h"
#include "notifications/notify.h"

struct batch {
  const struct h_broadcast_job *job;
  const json_t *tpl;                /* the template, loaded once (may be NULL) */
  struct h_notify_request req;      /* the send fields, user_id set per recipient */
  struct h_push_list push;
  char cursor[37];                  /* last recipient of this batch */
  int created;
  bool done;
  struct h_notify_error err;        /* set when the broadcast must fail */
  bool failed;
};

/* Creates one recipient's notification; a user deleted meanwhile is skipped. */
static h_result one(PGconn *conn, struct batch *b, const char *user_id) {
  json_t *out = NULL;
  b->req.user_id = user_id;
  h_result r = h_notify_in_tx(conn, &b->req, b->tpl, &out, &b->push, &b->err);
  json_decref(out);
  if (r == H_OK) {
    b->created++;
  } else if (r == H_ERR_UNPROCESSABLE && strcmp(b->err.code, "user_not_found") == 0) {
    r = H_OK;
  } else if (r == H_ERR_UNPROCESSABLE) {
    b->failed = true;
  }
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
  for (int i = 0; r == H_OK && i < n; i++) {
    r = one(conn, b, PQgetvalue(ids, i, 0));
    snprintf(b->cursor, sizeof(b->cursor), "%s", PQgetvalue(ids, i, 0));
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
  struct batch b = {.job = job};
  json_t *tpl = NULL;
  h_broadcast_request_read(job->request, &b.req);
  b.req.broadcast_id = job->id;
  h_result rc = b.req.template_key != NULL
                    ? h_notify_load_template(conn, b.req.template_key, &tpl, &b.err)
                    : H_OK;
  b.tpl = tpl;
  b.failed = rc == H_ERR_UNPROCESSABLE;
  while (rc == H_OK && !b.done && !(opt->stop != NULL && atomic_load(opt->stop))) {
    rc = run_batch(conn, &b, opt);
    if (rc == H_OK) {
      snprintf(job->cursor, sizeof(job->cursor), "%s", b.cursor[0] ? b.cursor : job->cursor);
      h_push_list_send(r, &b.push, NULL);
      h_push_list_clear(&b.push);
    }
  }
  if (b.failed) {
    fail(conn, job, &b.err);
  } else if (rc == H_OK && !b.done) {
    h_broadcast_repo_release(conn, job); /* stopping: let the next start resume at once */
  }
  json_decref(tpl);
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
