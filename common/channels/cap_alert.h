/* cap_alert.h - the admins' alert when a channel reached its daily cap
 * (HERALD_DAILY_CAPS): once per channel and UTC day, an e-mail to every active admin and an
 * audit row, sent by the API's sweeper. */
#ifndef HERALD_CAP_ALERT_H
#define HERALD_CAP_ALERT_H

#include <libpq-fe.h>

#include "core/result.h"
#include "store/redis.h"

/* Alerts for the channels with capped deliveries today that have not been alerted yet,
 * in one transaction on conn; the e-mails are pushed to redis (borrowed) after COMMIT.
 * *alerted (may be NULL) receives how many channels were alerted. */
h_result h_cap_alert_run(PGconn *conn, struct h_redis *redis, long *alerted);

#endif
