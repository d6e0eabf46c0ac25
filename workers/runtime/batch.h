/* batch.h - the worker loop over batches of ids (--batch N / HERALD_WORKER_BATCH
 * above 1), and the steps of one job it shares with the one-id loop of fetch.c.
 *
 * A batch keeps the protocol of DESIGN.md "Queues" for each of its ids: fetched
 * into the thread's processing list (one blocking BLMOVE at most, the rest in one
 * Lua LMOVE loop), claimed in one statement (a fencing token each), sent one by
 * one on the thread's provider connection (or, by a provider with send_many, a
 * window of HERALD_WORKER_IN_FLIGHT jobs at a time, their requests in flight
 * together), recorded in one transaction (each row still fenced by its own token),
 * and only then removed from the processing list, all ids in one atomic Lua call. A
 * crash anywhere leaves the uncommitted ids in the processing list for the reaper; a
 * drain finishes the job (or window) in flight, hands the claimed but unattempted
 * ones back (claim undone in PostgreSQL, id to the
 * front of the ready list) and the fetched but unclaimed ones too.
 *
 * Ownership: every pointer taken is borrowed for the call. */
#ifndef HERALD_WORKER_BATCH_H
#define HERALD_WORKER_BATCH_H

#include <stddef.h>

#include "rt.h"

#define H_BATCH_MAX 500

/* ---- steps of one job (fetch.c) ---- */

/* BLMOVE (LMOVE with --once) of one id into t's processing list. 1: id filled; 0:
 * none ready; -1: Redis trouble or no live heartbeat (already waited, *fails
 * counts the streak). */
int h_rt_fetch_one(struct h_wthread *t, char *id, size_t idlen, int *fails);
/* Logs a backend failure once per streak (*reported), not once per retry. */
void h_rt_report(struct h_wthread *t, bool *reported, const char *what, h_result r);

/* One PostgreSQL step of a worker thread. */
struct h_rt_pg_step {
  const char *what;                        /* its name for the watchdog and the logs */
  h_result (*run)(PGconn *pg, void *arg);
  void *arg;
  h_result final1, final2;                 /* answers that end it besides H_OK (H_OK: none) */
  const atomic_bool *stop;                 /* retrying ends when it is set */
  bool once;                               /* no retry */
};

/* Runs step->run on t's connection under the watchdog until it gives H_OK or a final
 * answer; after a failure checks the connection, reports the streak once and backs
 * off. Returns that answer, or the last failure when stop was set (or once). */
h_result h_rt_pg_retry(struct h_wthread *t, const struct h_rt_pg_step *step);
/* What must happen before job's provider call: res zeroed (retry_after_s -1), then false
 * with res filled when it is not to be sent (user inactive, e-mail suppressed, throttled or
 * capped), true when it is. */
bool h_rt_gate(struct h_wthread *t, const struct h_job *job, struct h_send_result *res);
/* Calls the provider (or decides there is nothing to send) under the watchdog. */
void h_rt_attempt(struct h_wthread *t, const struct h_job *job, struct h_send_result *res,
                  int *duration_ms);
/* Turns an attempt into the row's next state; o borrows from res and t. */
void h_rt_decide(struct h_wthread *t, const struct h_job *job, const struct h_send_result *res,
                 int duration_ms, struct h_job_outcome *o);
/* The metrics outcome of a recorded status. */
enum h_outcome h_rt_outcome_of(const char *status);
void h_rt_log_outcome(struct h_wthread *t, const struct h_job *job,
                      const struct h_job_outcome *o);

/* ---- Redis moves of a batch (batch_moves.c) ---- */

/* What becomes of one id of the processing list after COMMIT. */
struct h_move {
  const char *id;  /* borrowed */
  char kind;       /* 'a' acknowledge (LREM), 'd' delayed set at due, 'x' dead-letter list,
                      'r' front of the ready list */
  double due;      /* 'd': unix seconds */
};

/* Moves up to want ids from the ready list into t's processing list, without
 * blocking (one Lua call). Fills ids[] and returns how many, or
 * -1 when Redis failed. */
int h_rt_take(struct h_wthread *t, int want, char (*ids)[128]);
/* After a move into t's processing list failed (t->list_unknown: Redis may have moved ids
 * and lost the reply, and no reaper takes them while we live): up to want ids already in
 * the list, to be processed like fresh ones; 0 (and the flag cleared) when it is empty,
 * -1 when Redis does not answer. */
int h_rt_take_own(struct h_wthread *t, int want, char (*ids)[128]);
/* Applies moves[0..n) in one atomic Lua call: each id LREMed once from t's
 * processing list, then pushed where its kind says. */
h_result h_rt_apply_moves(struct h_wthread *t, const struct h_move *moves, size_t n);
/* The move kind for a recorded status (sent, scheduled, dead, ready...). Pure. */
char h_rt_move_kind(const char *status);

/* ---- the loop (batch.c) ---- */

/* The batch size in force: --batch, else HERALD_WORKER_BATCH. Each batch is cut to
 * what the provider calls take in HERALD_WORKER_BATCH_WINDOW_MS (batch.c). */
int h_rt_batch_size(const struct h_rt *rt);
/* The worker thread's loop when the batch size is above 1. */
void h_rt_batch_loop(struct h_wthread *t, int size);

#endif
