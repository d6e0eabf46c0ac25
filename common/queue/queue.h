/* queue.h - the queue protocol shared by the API and the workers.
 *
 * PostgreSQL holds the truth (a deliveries or jobs row); Redis carries only ids.
 * Keys use a hash tag per queue so one queue's keys share a Redis Cluster slot:
 *   herald:q:{email}                ready list (LPUSH by producers, BLMOVE RIGHT by workers)
 *   herald:q:{email}:proc:<worker>  a worker's processing list
 *   herald:delayed:{email}          sorted set of ids by due time (scheduled and retries)
 *   herald:dlq:{email}              dead letters
 *   herald:hb:{email}:<worker>      a worker's heartbeat (TTL) */
#ifndef HERALD_QUEUE_H
#define HERALD_QUEUE_H

#include <stddef.h>

#include "store/redis.h"
#include "core/result.h"

enum h_queue { H_QUEUE_EMAIL, H_QUEUE_SMS, H_QUEUE_PUSH, H_QUEUE_WEBHOOK, H_QUEUE_RECONCILE,
               H_QUEUE_COUNT };

/* "email", "sms", "push", "webhook", "reconcile". Static. */
const char *h_queue_name(enum h_queue q);

/* The queue of a name or a delivery channel; -1 when there is none (e.g. "in_app"). */
int h_queue_parse(const char *name);

/* Key builders: write a NUL-terminated key into out. */
void h_queue_ready_key(enum h_queue q, char *out, size_t outlen);
void h_queue_processing_key(enum h_queue q, const char *worker_id, char *out, size_t outlen);
void h_queue_delayed_key(enum h_queue q, char *out, size_t outlen);
void h_queue_dlq_key(enum h_queue q, char *out, size_t outlen);
void h_queue_heartbeat_key(enum h_queue q, const char *worker_id, char *out, size_t outlen);

/* LPUSHes n ids onto the ready list in one round trip. Call only after the rows
 * are committed. H_ERR_UNAVAILABLE when Redis is down (the sweeper re-pushes). */
h_result h_queue_push(struct h_redis *r, enum h_queue q, const char *const *ids, size_t n);

/* Adds ids to the delayed set with their due time (unix seconds). */
h_result h_queue_schedule(struct h_redis *r, enum h_queue q, const char *id, double due);

#endif
