/* digest_service.c - closing digest windows (see digest_service.h). */
#include "channels/digest_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/digest_repo.h"
#include "core/alloc.h"
#include "core/log.h"
#include "notifications/notify.h"
#include "queue/push_list.h"
#include "store/db.h"
#include "templates/template_repo.h"

#define DUE_BATCH 50

/* "- title: body" lines of the members (new string). */
static char *list_text(const json_t *members) {
  size_t cap = 1, i;
  json_t *m;
  json_array_foreach(members, i, m) {
    const char *t = json_string_value(json_object_get(m, "title"));
    const char *b = json_string_value(json_object_get(m, "body"));
    cap += (t ? strlen(t) : 0) + (b ? strlen(b) : 0) + 8;
  }
  char *out = h_malloc(cap), *p = out;
  *p = '\0';
  json_array_foreach(members, i, m) {
    const char *t = json_string_value(json_object_get(m, "title"));
    const char *b = json_string_value(json_object_get(m, "body"));
    p += sprintf(p, "- %s%s%s\n", t ? t : "", t && b && *b ? ": " : "", b ? b : "");
  }
  return out;
}

/* The digest's send: req and its data (new reference in *data) for members. */
static void digest_request(const json_t *group, const json_t *members, bool has_template,
                           struct h_notify_request *req, json_t **data, char **title,
                           char **body) {
  const char *category = json_string_value(json_object_get(group, "category"));
  size_t n = json_array_size(members);
  const json_t *first = json_array_get(members, 0);
  *body = list_text(members);
  *title = h_sprintf("%zu new %s notifications", n, category);
  *data = json_pack("{s{sIssss}}", "digest", "count", (json_int_t)n, "category", category,
                    "list", *body);
  memset(req, 0, sizeof(*req));
  req->user_id = json_string_value(json_object_get(group, "user_id"));
  req->category = category;
  req->priority = "normal";
  req->channels = H_CHANNEL_BIT(h_channel_parse(json_string_value(json_object_get(group,
                                                                                  "channel"))));
  req->data = *data;
  if (n == 1) { /* a window of one: the notification as it was */
    req->title = json_string_value(json_object_get(first, "title"));
    req->body = json_string_value(json_object_get(first, "body"));
    req->action_url = json_string_value(json_object_get(first, "action_url"));
  } else if (has_template) {
    req->template_key = "digest";
  } else {
    req->title = *title;
    req->body = *body;
  }
}

/* The ids of members as a JSON array text (new string). */
static char *member_ids(const json_t *members) {
  json_t *ids = json_array();
  size_t i;
  json_t *m;
  json_array_foreach(members, i, m) {
    json_array_append(ids, json_object_get(m, "id"));
  }
  char *text = json_dumps(ids, JSON_COMPACT);
  json_decref(ids);
  return text;
}

/* Sends one group's digest in the open transaction; its delivery ids go to push. */
static h_result send_group(PGconn *conn, const json_t *group, bool has_template,
                           struct h_push_list *push) {
  json_t *members = NULL, *data = NULL, *out = NULL;
  h_result r = h_digest_repo_take(conn, json_string_value(json_object_get(group, "user_id")),
                                  json_string_value(json_object_get(group, "channel")),
                                  json_string_value(json_object_get(group, "category")),
                                  H_DIGEST_MAX_ITEMS, &members);
  if (r != H_OK || json_array_size(members) == 0) {
    json_decref(members);
    return r; /* taken by another sweeper meanwhile */
  }
  struct h_notify_request req;
  char *title = NULL, *body = NULL;
  struct h_notify_error err;
  digest_request(group, members, has_template, &req, &data, &title, &body);
  r = h_notify_in_tx(conn, &req, NULL, NULL, &out, push, &err);
  if (r == H_ERR_UNPROCESSABLE) {
    h_log_warning("digest: %s (%s); members left waiting", err.message, err.code);
  }
  const char *digest_id =
      json_string_value(json_object_get(json_array_get(json_object_get(out, "deliveries"), 0),
                                        "id"));
  char *ids = member_ids(members);
  if (r == H_OK && digest_id != NULL) {
    r = h_digest_repo_mark(conn, ids, digest_id);
  }
  free(ids);
  free(title);
  free(body);
  json_decref(data);
  json_decref(out);
  json_decref(members);
  return r;
}

/* One group in its own transaction, pushed after COMMIT. */
static h_result run_group(PGconn *conn, struct h_redis *redis, const json_t *group,
                          bool has_template) {
  struct h_push_list push = {0};
  h_result r = h_db_begin(conn);
  if (r == H_OK) {
    r = send_group(conn, group, has_template, &push);
  }
  r = r == H_OK ? h_db_commit(conn) : r;
  if (r != H_OK) {
    h_db_rollback(conn);
  } else {
    h_push_list_send(redis, &push, "digest");
  }
  h_push_list_clear(&push);
  return r;
}

h_result h_digest_run(PGconn *conn, struct h_redis *redis, const struct h_flood_rules *rules,
                      long *sent) {
  if (sent != NULL) {
    *sent = 0;
  }
  json_t *groups = NULL, *tpl = NULL;
  h_result r = h_digest_repo_due(conn, rules->windows, DUE_BATCH, &groups);
  if (r != H_OK || json_array_size(groups) == 0) {
    json_decref(groups);
    return r;
  }
  h_result t = h_template_repo_get(conn, "digest", &tpl);
  json_decref(tpl);
  if (t != H_OK && t != H_ERR_NOT_FOUND) {
    json_decref(groups);
    return t;
  }
  size_t i;
  json_t *g;
  json_array_foreach(groups, i, g) {
    r = run_group(conn, redis, g, t == H_OK);
    if (r != H_OK) {
      break;
    }
    if (sent != NULL) {
      (*sent)++;
    }
  }
  json_decref(groups);
  return r;
}
