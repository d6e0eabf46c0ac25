/* digest_service.h - closing digest windows (run by the API's sweeper). E-mail and push
 * deliveries of a category with a window (HERALD_DIGEST_WINDOWS) wait with status
 * "digest"; once the oldest waiting one of a recipient, channel and category is older than
 * the window, all of them go out as one notification on that channel, rendered with the
 * template "digest" when there is one (variables: digest.count, digest.category,
 * digest.list), else "<n> new <category> notifications" listing their titles and bodies;
 * the members end "digested", pointing at the digest's delivery. A window holding one
 * notification sends it as it was. */
#ifndef HERALD_DIGEST_SERVICE_H
#define HERALD_DIGEST_SERVICE_H

#include <libpq-fe.h>

#include "core/flood.h"
#include "core/result.h"
#include "store/redis.h"

/* Most members one digest lists. */
#define H_DIGEST_MAX_ITEMS 100

/* Sends the digests that are due, one transaction each, on conn; their deliveries are
 * pushed to redis (borrowed) after COMMIT. *sent (may be NULL) receives how many. */
h_result h_digest_run(PGconn *conn, struct h_redis *redis, const struct h_flood_rules *rules,
                      long *sent);

#endif
