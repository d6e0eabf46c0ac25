/* unsubscribe.c - the one-click unsubscribe links of e-mails (RFC 8058):
 *   POST /api/v1/unsubscribe?user=&category=&sig=  turns that category's e-mail off (what mail
 *        clients send: a form body "List-Unsubscribe=One-Click", which is not required)
 *   GET  the same URL                              a page with a button that POSTs it (a
 *        browser opening the link changes nothing by itself)
 * The link is signed (common/crypto/unsubscribe.h); no login is needed. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "audit/audit.h"
#include "crypto/crypto.h"
#include "core/log.h"
#include "notifications/notification_input.h"
#include "http/routes.h"
#include "notifications/unsubscribe.h"
#include "crypto/unsubscribe.h"
#include "notifications/unsubscribe_service.h"

struct link {
  const char *user, *category, *sig;
};

/* True when s is 64 lowercase hex characters. Pure. */
static bool sig_shaped(const char *s) {
  return s != NULL && strlen(s) == H_UNSUBSCRIBE_SIG_LEN &&
         strspn(s, "0123456789abcdef") == H_UNSUBSCRIBE_SIG_LEN;
}

/* Reads and checks the link of rq into l; false when a reply was sent. */
static bool valid_link(struct h_req *rq, struct link *l) {
  struct h_unsubscribe_key key;
  if (!h_unsubscribe_key_from_config(rq->app->cfg, &key)) {
    h_reply_error(rq, H_ERR_UNAVAILABLE, NULL,
                  "Unsubscribe links are not configured (HERALD_UNSUBSCRIBE_SECRET).", NULL);
    return false;
  }
  l->user = h_req_param(rq, "user");
  l->category = h_req_param(rq, "category");
  l->sig = h_req_param(rq, "sig");
  struct h_field_errors fe = {0};
  if (l->user == NULL || !h_uuid_valid(l->user)) {
    h_field_error(&fe, "user", l->user == NULL ? "missing_field" : "invalid_id",
                  "Must be a user id.");
  }
  if (l->category == NULL || !h_category_valid(l->category)) {
    h_field_error(&fe, "category", l->category == NULL ? "missing_field" : "invalid_category",
                  "Must be 1-64 of A-Z a-z 0-9 _ . : -.");
  }
  if (!sig_shaped(l->sig)) {
    h_field_error(&fe, "sig", l->sig == NULL ? "missing_field" : "invalid_signature",
                  "Must be the link's signature: 64 hex characters.");
  }
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return false;
  }
  bool ok = h_unsubscribe_verify(&key, l->user, l->category, l->sig);
  memset(&key, 0, sizeof(key));
  if (!ok) {
    h_log(H_LOG_WARNING, "security", rq->request_id,
          "unsubscribe refused from %s: the signature does not match", rq->ip);
    h_reply_error(rq, H_ERR_INVALID, "invalid_signature",
                  "This unsubscribe link is not valid (altered or from another server).", "sig");
  }
  return ok;
}

void h_unsubscribe_post(struct h_req *rq) {
  struct link l;
  if (!valid_link(rq, &l)) {
    return;
  }
  struct h_actor actor = {l.user, "user", rq->ip, rq->request_id, NULL};
  h_result r = h_unsubscribe_email(rq->app, &actor, l.user, l.category);
  if (r != H_OK) {
    h_reply_error(rq, r, NULL,
                  r == H_ERR_NOT_FOUND ? "This account no longer exists."
                                       : "The preference could not be saved; try again later.",
                  NULL);
    return;
  }
  h_reply_json(rq, 200, json_pack("{sssssssb}", "object", "unsubscribe", "category", l.category,
                                  "channel", "email", "subscribed", 0));
}

static const char page_head[] =
  "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
  "<title>Unsubscribe</title>\n<link rel=\"icon\" href=\"data:,\">\n"
  "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;"
  "padding:0 1rem;color:#111827}button{font:inherit;padding:.5rem 1rem;cursor:pointer}</style>\n"
  "</head>\n<body>\n";

void h_unsubscribe_get(struct h_req *rq) {
  struct link l;
  if (!valid_link(rq, &l)) {
    return;
  }
  /* every value was checked above: a uuid, [A-Za-z0-9_.:-] and hex need no escaping */
  char *page = h_sprintf("%s<h1>Unsubscribe</h1>\n<p>Stop e-mails of the category "
                         "<strong>%s</strong>? Other settings stay as they are.</p>\n"
                         "<form method=\"post\" action=\"/api/v1/unsubscribe?user=%s&amp;"
                         "category=%s&amp;sig=%s\">\n<input type=\"hidden\" "
                         "name=\"List-Unsubscribe\" value=\"One-Click\">\n"
                         "<button type=\"submit\">Unsubscribe</button>\n</form>\n</body>\n"
                         "</html>\n",
                         page_head, l.category, l.user, l.category, l.sig);
  ulfius_set_binary_body_response(rq->response, 200, page, strlen(page));
  free(page);
  h_reply_header(rq, "Content-Type", "text/html; charset=utf-8");
  h_reply_header(rq, "Content-Security-Policy",
                 "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                 "form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  rq->done = true;
}
