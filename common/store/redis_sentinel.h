/* redis_sentinel.h - find the Redis primary through Redis Sentinel.
 *
 * With HERALD_REDIS_SENTINELS ("host:port,host:port") and HERALD_REDIS_MASTER_NAME
 * set, every (re)connect of common/store/redis.c asks the sentinels in turn
 * (SENTINEL get-master-addr-by-name <name>) for the primary's address, connects
 * there, and checks with ROLE that the server really is a master. A connection
 * that later fails, or answers READONLY/MASTERDOWN after a fail-over, is marked
 * broken by redis.c, so the next use asks the sentinels again. The password and
 * database of HERALD_REDIS_URL apply to the primary; its host and port are
 * ignored in this mode. */
#ifndef HERALD_REDIS_SENTINEL_H
#define HERALD_REDIS_SENTINEL_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "store/redis.h"
#include "core/result.h"

#define H_SENTINEL_MAX 16
#define H_SENTINEL_DEFAULT_PORT 26379

struct h_sentinel_addr {
  char host[256];
  int port;
};

/* Parses "host[:port][,host[:port]...]" (spaces around items allowed, "[v6]:port"
 * for IPv6, port 26379 when omitted) into out[0..max). H_ERR_INVALID when the list
 * is empty, an item is malformed, or there are more than max items. */
h_result h_sentinel_parse_list(const char *list, struct h_sentinel_addr *out, int max,
                               int *count);

/* Reads the reply of SENTINEL get-master-addr-by-name (reply is borrowed). H_OK
 * with host and port filled; H_ERR_NOT_FOUND when the sentinel does not know the
 * master (nil reply); H_ERR_INVALID for any other shape. */
h_result h_sentinel_parse_master_reply(const redisReply *reply, char *host, size_t hostlen,
                                       int *port);

/* True when the reply of ROLE (borrowed) says "master". */
bool h_sentinel_role_is_master(const redisReply *reply);

/* Checks the pair of variables: a message naming the variable (caller frees) when
 * they are inconsistent, NULL when they are fine (both empty, or both set and the
 * list well-formed). */
char *h_sentinel_config_check(const char *sentinels, const char *master_name);

/* Asks the sentinels of t (borrowed) in turn, starting with the one that answered
 * last, for the primary of t->master_name. H_OK with host/port filled, else
 * H_ERR_UNAVAILABLE (every failure is logged). */
h_result h_sentinel_resolve(const struct h_redis_target *t, char *host, size_t hostlen,
                            int *port);

/* How long the primary's address the sentinels gave is trusted before they are asked
 * again by h_sentinel_is_current (one question per process per period). */
#define H_SENTINEL_RECHECK_MS 1000

/* True unless the sentinels of t (borrowed), asked at most once per
 * H_SENTINEL_RECHECK_MS per process, now name a primary other than peer ("host:port").
 * Sentinels that cannot be reached leave the answer true (the connection decides). */
bool h_sentinel_is_current(const struct h_redis_target *t, const char *peer);

/* Sends ROLE on ctx (borrowed): H_OK when the server is a master, else
 * H_ERR_UNAVAILABLE (a replica: the sentinels have not caught up yet). */
h_result h_sentinel_check_role(redisContext *ctx);

/* Builds the Redis target of the configuration (borrowed): HERALD_REDIS_URL,
 * HERALD_REDIS_TIMEOUT_MS and the sentinel variables. H_ERR_INVALID with *error
 * naming the variable (caller frees) when something is malformed. Both the API
 * and the workers use it, so both follow the sentinels. */
h_result h_redis_target_from_config(const struct h_config *cfg, struct h_redis_target *out,
                                    char **error);

#endif
