/* template_service.c - template rules and transactions. */
#include "templates/template_service.h"

#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "templates/template.h"

struct op {
  const struct h_actor *actor;
  const struct h_template_input *in;
  const struct h_idem *idem;
  const struct h_page *page;
  const char *key;
  json_t *out;
  bool more;
};

static h_result list_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_template_repo_list(c, o->page, &o->out, &o->more);
}

h_result h_template_list(struct h_app *app, const struct h_page *page, json_t **data,
                         bool *has_more) {
  struct op o = {.page = page};
  h_result r = h_db_run(app->db, list_tx, &o);
  *data = o.out;
  *has_more = o.more;
  return r;
}

static h_result find_tx(PGconn *c, void *a) {
  struct op *o = a;
  return h_template_repo_get(c, o->key, &o->out);
}

h_result h_template_find(struct h_app *app, const char *key, json_t **tpl) {
  struct op o = {.key = key};
  h_result r = h_db_run(app->db, find_tx, &o);
  *tpl = o.out;
  return r;
}

/* Runs fn in a transaction and hands out o->out on success only. */
static h_result in_tx(struct h_app *app, h_result (*fn)(PGconn *, void *), struct op *o,
                      json_t **out) {
  json_t *made = NULL;
  h_result r = h_db_tx_json(app->db, fn, o, &o->out, &made);
  if (out != NULL) {
    *out = made;
  } else {
    json_decref(made);
  }
  return r;
}

static h_result create_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_template_repo_insert(c, o->in, &o->out);
  if (r == H_OK) {
    r = h_audit_write(c, o->actor, "template.created", "template", o->in->key, NULL, false);
  }
  return r == H_OK ? h_idem_complete(c, o->idem, H_OUTCOME_CREATED, o->out) : r;
}

h_result h_template_create(struct h_app *app, const struct h_actor *actor,
                           const struct h_template_input *in, const struct h_idem *idem,
                           json_t **tpl) {
  struct op o = {.actor = actor, .in = in, .idem = idem};
  return in_tx(app, create_tx, &o, tpl);
}

static h_result replace_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_template_repo_update(c, o->key, o->in, &o->out);
  return r == H_OK ? h_audit_write(c, o->actor, "template.updated", "template", o->key, NULL,
                                   false)
                   : r;
}

h_result h_template_replace(struct h_app *app, const struct h_actor *actor, const char *key,
                            const struct h_template_input *in, json_t **tpl) {
  struct op o = {.actor = actor, .in = in, .key = key};
  return in_tx(app, replace_tx, &o, tpl);
}

static h_result remove_tx(PGconn *c, void *a) {
  struct op *o = a;
  h_result r = h_template_repo_delete(c, o->key);
  return r == H_OK ? h_audit_write(c, o->actor, "template.deleted", "template", o->key, NULL,
                                   false)
                   : r;
}

h_result h_template_remove(struct h_app *app, const struct h_actor *actor, const char *key) {
  struct op o = {.actor = actor, .key = key};
  return in_tx(app, remove_tx, &o, NULL);
}

h_result h_template_preview(struct h_app *app, const char *key, const json_t *data,
                            const char *locale, json_t **preview, struct h_notify_error *err) {
  json_t *tpl = NULL;
  *preview = NULL;
  h_result r = h_template_find(app, key, &tpl);
  if (r != H_OK) {
    return r;
  }
  const char *fallback = json_string_value(json_object_get(tpl, "default_locale"));
  const char *used = NULL;
  json_t *content = h_template_localize(json_object_get(tpl, "channels"),
                                        json_object_get(tpl, "locales"),
                                        locale != NULL ? locale : fallback, &used);
  json_t *rendered = NULL;
  struct h_template_error te;
  r = h_template_render_channels(content, data, &rendered, &te);
  if (r == H_OK) {
    *preview = json_pack("{sssssssO}", "object", "template_preview", "key", key, "locale",
                         used != NULL ? used : fallback, "channels", rendered);
  } else {
    snprintf(err->code, sizeof(err->code), "%s",
             te.code == H_ERR_UNPROCESSABLE ? "missing_variable" : "invalid_template");
    snprintf(err->param, sizeof(err->param), "%s", te.param);
    snprintf(err->message, sizeof(err->message), "%s", te.message);
    r = H_ERR_UNPROCESSABLE;
  }
  json_decref(rendered);
  json_decref(content);
  json_decref(tpl);
  return r;
}
