/* templates.c - /api/v1/admin/templates[/{key}[/preview]]. */
#include <stdio.h>
#include <string.h>

#include "notifications/notifications.h"
#include "templates/template.h"
#include "templates/template_service.h"
#include "http/idempotency.h"
#include "http/request.h"

#define MAX_LOCALES 50

/* The :key path parameter, or a 404 reply when it cannot be a key. */
static const char *path_key(struct h_req *rq) {
  const char *key = h_req_param(rq, "key");
  if (!h_template_key_valid(key)) {
    h_reply_error(rq, H_ERR_NOT_FOUND, "not_found", "No such template.", NULL);
    return NULL;
  }
  return key;
}

static void reply_failure(struct h_req *rq, h_result r) {
  if (r == H_ERR_NOT_FOUND) {
    h_reply_error(rq, r, "not_found", "No such template.", NULL);
  } else if (r == H_ERR_CONFLICT) {
    h_reply_error(rq, r, "template_exists", "A template with this key exists.", "key");
  } else {
    h_reply_notify_failure(rq, r, NULL);
  }
}

static void check_locales(const json_t *locales, struct h_field_errors *fe) {
  if (!json_is_object(locales)) {
    h_field_error(fe, "locales", "invalid_type", "Must be an object of locale: channels.");
    return;
  }
  if (json_object_size(locales) > MAX_LOCALES) {
    h_field_error(fe, "locales", "too_many", "At most %d locales.", MAX_LOCALES);
  }
  const char *locale;
  json_t *variant;
  json_object_foreach((json_t *)locales, locale, variant) {
    char param[80];
    snprintf(param, sizeof(param), "locales.%.16s", locale);
    if (!h_valid_locale(locale)) {
      h_field_error(fe, param, "invalid_locale", "Must be a locale such as fr or pt-BR.");
    } else {
      h_template_validate_channels(variant, param, true, fe);
    }
  }
}

/* The fields of a template body (every one but key) into in. */
static void read_template(const json_t *body, struct h_template_input *in,
                          struct h_field_errors *fe) {
  in->name = h_field_string(body, "name", false, 200, fe);
  in->description = h_field_string(body, "description", false, 2000, fe);
  in->default_locale = h_field_string(body, "default_locale", false, 5, fe);
  if (in->default_locale != NULL && !h_valid_locale(in->default_locale)) {
    h_field_error(fe, "default_locale", "invalid_locale", "Must be a locale such as en or pt-BR.");
  }
  in->channels = json_object_get(body, "channels");
  if (in->channels == NULL) {
    h_field_error(fe, "channels", "missing_field", "This field is required.");
  } else {
    h_template_validate_channels(in->channels, "channels", false, fe);
  }
  in->locales = json_object_get(body, "locales");
  if (in->locales != NULL) {
    check_locales(in->locales, fe);
  }
}

void h_templates_get(struct h_req *rq) {
  struct h_page page;
  if (!h_http_page(rq, &page)) {
    return;
  }
  json_t *data = NULL;
  bool more = false;
  h_result r = h_template_list(rq->app, &page, &data, &more);
  if (r == H_OK) {
    h_reply_json(rq, 200, h_list_body(data, more));
  } else {
    reply_failure(rq, r);
  }
}

void h_templates_post(struct h_req *rq) {
  static const char *const allowed[] = {"key", "name", "description", "default_locale",
                                        "channels", "locales", NULL};
  if (!h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_template_input in = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  in.key = h_field_string(rq->body, "key", true, 64, &fe);
  if (in.key != NULL && !h_template_key_valid(in.key)) {
    h_field_error(&fe, "key", "invalid_template_key",
                  "Must be 1-64 of a-z 0-9 _ . -, starting with a letter or digit.");
  }
  read_template(rq->body, &in, &fe);
  struct h_idem idem;
  if (!h_http_idem_begin_valid(rq, &fe, &idem)) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *tpl = NULL;
  h_result r = h_template_create(rq->app, &actor, &in, &idem, &tpl);
  if (r == H_OK) {
    h_reply_json(rq, 201, tpl);
  } else {
    h_idem_abort(rq->app->db, &idem);
    reply_failure(rq, r);
  }
}

void h_template_get(struct h_req *rq) {
  const char *key = path_key(rq);
  if (key == NULL) {
    return;
  }
  json_t *tpl = NULL;
  h_result r = h_template_find(rq->app, key, &tpl);
  if (r == H_OK) {
    h_reply_json(rq, 200, tpl);
  } else {
    reply_failure(rq, r);
  }
}

void h_template_put(struct h_req *rq) {
  static const char *const allowed[] = {"key", "name", "description", "default_locale",
                                        "channels", "locales", NULL};
  const char *key = path_key(rq);
  if (key == NULL || !h_require_object(rq)) {
    return;
  }
  struct h_field_errors fe = {0};
  struct h_template_input in = {0};
  h_reject_unknown(rq->body, allowed, &fe);
  const char *body_key = h_field_string(rq->body, "key", false, 64, &fe);
  if (body_key != NULL && strcmp(body_key, key) != 0) {
    h_field_error(&fe, "key", "key_mismatch", "Must match the key in the path (keys are fixed).");
  }
  read_template(rq->body, &in, &fe);
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  json_t *tpl = NULL;
  h_result r = h_template_replace(rq->app, &actor, key, &in, &tpl);
  if (r == H_OK) {
    h_reply_json(rq, 200, tpl);
  } else {
    reply_failure(rq, r);
  }
}

void h_template_delete(struct h_req *rq) {
  const char *key = path_key(rq);
  if (key == NULL) {
    return;
  }
  struct h_actor actor = h_actor_of(rq);
  h_result r = h_template_remove(rq->app, &actor, key);
  if (r == H_OK) {
    h_reply_no_content(rq);
  } else {
    reply_failure(rq, r);
  }
}

void h_template_preview_post(struct h_req *rq) {
  static const char *const allowed[] = {"data", "locale", NULL};
  const char *key = path_key(rq);
  if (key == NULL) {
    return;
  }
  const json_t *body = rq->body != NULL ? rq->body : json_object();
  struct h_field_errors fe = {0};
  if (!json_is_object(body)) {
    h_field_error(&fe, "body", "invalid_body", "The request body must be a JSON object.");
  } else {
    h_reject_unknown(body, allowed, &fe);
  }
  const json_t *data = json_object_get(body, "data");
  if (data != NULL && !json_is_object(data)) {
    h_field_error(&fe, "data", "invalid_type", "Must be an object.");
  }
  const char *locale = json_is_object(body) ? h_field_string(body, "locale", false, 5, &fe) : NULL;
  if (locale != NULL && !h_valid_locale(locale)) {
    h_field_error(&fe, "locale", "invalid_locale", "Must be a locale such as fr or pt-BR.");
  }
  json_t *preview = NULL;
  struct h_notify_error err = {{0}, {0}, {0}};
  h_result r = h_field_errors_count(&fe) == 0
                   ? h_template_preview(rq->app, key, data, locale, &preview, &err)
                   : H_ERR_INVALID;
  if (h_field_errors_count(&fe) > 0) {
    h_reply_field_errors(rq, &fe);
  } else if (r == H_OK) {
    h_reply_json(rq, 200, preview);
  } else if (r == H_ERR_UNPROCESSABLE) {
    h_reply_notify_failure(rq, r, &err);
  } else {
    reply_failure(rq, r);
  }
  if (rq->body == NULL) {
    json_decref((json_t *)body);
  }
}
