/* stream_service.c - see stream_service.h. */
#include "inbox/stream_service.h"

#include <time.h>

#include "inbox/stream_repo.h"
#include "store/db.h"
#include "users/token_epoch.h"

h_result h_stream_connect(struct h_app *app, struct h_stream_hub *hub,
                          const struct h_stream_grant *g, long long last_event_id,
                          const struct h_stream_conn_ops *ops, void *conn,
                          struct h_stream **out) {
  *out = NULL;
  if (hub == NULL || app->cfg->stream_max == 0) {
    return H_ERR_UNAVAILABLE;
  }
  if (g->expires <= (long long)time(NULL)) {
    return H_ERR_UNAUTHORIZED;
  }
  h_result r = h_token_epoch_check(app, g->user_id, g->epoch);
  if (r != H_OK) {
    return r;
  }
  struct h_stream_start s = {.grant = *g, .last_event_id = last_event_id};
  PGconn *c = NULL;
  r = h_db_acquire(app->db, &c);
  if (r != H_OK) {
    return r;
  }
  r = h_stream_repo_head(c, g->user_id, &s.head, &s.unread);
  h_db_release(app->db, c);
  if (r != H_OK) {
    return r;
  }
  if (last_event_id > s.head) { /* an id this feed never reached (a restored database...) */
    s.last_event_id = -1;
    s.reset = true;
  }
  return h_stream_hub_open(hub, &s, ops, conn, out);
}
