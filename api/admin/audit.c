/* audit.c - GET /api/v1/admin/audit-log. */
#include "admin/audit.h"

#include <string.h>

#include "audit/audit.h"
#include "crypto/crypto.h"
#include "http/request.h"

void h_audit_log_get(struct h_req *rq) {
  struct h_field_errors fe = {0};
  struct h_page page;
  h_page_parse(rq, &page, &fe);
  struct h_audit_filter f = {
    .actor_id = h_req_param(rq, "actor_id"),
    .action = h_req_param(rq, "action"),
    .target_id = h_req_param(rq, "target_id"),
    .created_gte = h_req_param(rq, "created_gte"),
    .created_lte = h_req_param(rq, "created_lte"),
  };
  if (f.actor_id != NULL && !h_uuid_valid(f.actor_id)) {
    h_field_error(&fe, "actor_id", "invalid_id", "Must be a user or API key id.");
  }
  if (f.action != NULL && strlen(f.action) > 64) {
    h_field_error(&fe, "action", "too_long", "Must be at most 64 characters.");
  }
  if (f.target_id != NULL && strlen(f.target_id) > 128) {
    h_field_error(&fe, "target_id", "too_long", "Must be at most 128 characters.");
  }
  if (f.created_gte != NULL && !h_valid_timestamp(f.created_gte)) {
    h_field_error(&fe, "created_gte", "invalid_timestamp", "Must be an RFC 3339 timestamp.");
  }
  if (f.created_lte != NULL && !h_valid_timestamp(f.created_lte)) {
    h_field_error(&fe, "created_lte", "invalid_timestamp", "Must be an RFC 3339 timestamp.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_audit_list(rq->app, &f, &page, &data, &more);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL, "The audit log could not be read.", NULL);
    return;
  }
  h_reply_json(rq, 200, h_list_body(data, more));
}
