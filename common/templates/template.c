/* template.c - {{variable}} rendering, locale overlays and content validation. */
#include "templates/template.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define VAR_MAX 128
#define FIELD_MAX 100000

/* ---- a growable string ---- */

struct sbuf {
  char *data; /* owned, NUL-terminated */
  size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->data = h_realloc(b->data, b->cap);
  }
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

static void sb_add_escaped(struct sbuf *b, const char *s, bool html) {
  if (!html) {
    sb_add(b, s, strlen(s));
    return;
  }
  for (; *s != '\0'; s++) {
    switch (*s) {
    case '&': sb_add(b, "&amp;", 5); break;
    case '<': sb_add(b, "&lt;", 4); break;
    case '>': sb_add(b, "&gt;", 4); break;
    case '"': sb_add(b, "&quot;", 6); break;
    case '\'': sb_add(b, "&#39;", 5); break;
    default: sb_add(b, s, 1); break;
    }
  }
}

static void set_error(struct h_template_error *err, h_result code, const char *param,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_error(struct h_template_error *err, h_result code, const char *param,
                      const char *fmt, ...) {
  err->code = code;
  snprintf(err->param, sizeof(err->param), "%s", param);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err->message, sizeof(err->message), fmt, ap);
  va_end(ap);
}

bool h_template_key_valid(const char *s) {
  size_t n = s != NULL ? strlen(s) : 0;
  if (n == 0 || n > 64 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0]))) {
    return false;
  }
  for (size_t i = 1; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!islower(c) && !isdigit(c) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

/* ---- the variable syntax ---- */

/* Finds the next {{ ... }} from p: *open at "{{", *name and *namelen the trimmed inside.
 * Returns 0 when there is none, 1 when found, -1 when unclosed or the name is invalid. */
static int next_var(const char *p, const char **open, const char **close, const char **name,
                    size_t *namelen) {
  const char *o = strstr(p, "{{");
  if (o == NULL) {
    return 0;
  }
  const char *c = strstr(o + 2, "}}");
  if (c == NULL) {
    return -1;
  }
  const char *s = o + 2, *e = c;
  while (s < e && (*s == ' ' || *s == '\t')) {
    s++;
  }
  while (e > s && (e[-1] == ' ' || e[-1] == '\t')) {
    e--;
  }
  size_t n = (size_t)(e - s);
  if (n == 0 || n > VAR_MAX || s[0] == '.' || s[n - 1] == '.') {
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (!isalnum(ch) && ch != '_' && ch != '-' && !(ch == '.' && s[i + 1] != '.')) {
      return -1;
    }
  }
  *open = o;
  *close = c;
  *name = s;
  *namelen = n;
  return 1;
}

bool h_template_syntax_ok(const char *text, char *why, size_t whylen) {
  const char *p = text, *open, *close, *name;
  size_t n;
  int found;
  while ((found = next_var(p, &open, &close, &name, &n)) == 1) {
    p = close + 2;
  }
  if (found < 0) {
    snprintf(why, whylen, "Unclosed \"{{\" or an invalid variable name near offset %zu.",
             (size_t)(strstr(p, "{{") - text));
    return false;
  }
  return true;
}

/* The value at a dotted path of data, borrowed, or NULL. */
static const json_t *lookup(const json_t *data, const char *name, size_t n) {
  const json_t *node = data;
  char key[VAR_MAX + 1];
  while (n > 0 && json_is_object(node)) {
    size_t seg = 0;
    while (seg < n && name[seg] != '.') {
      seg++;
    }
    memcpy(key, name, seg);
    key[seg] = '\0';
    node = json_object_get(node, key);
    name += seg;
    n -= seg;
    if (n > 0) {
      name++;
      n--;
    }
  }
  return n == 0 ? node : NULL;
}

/* Appends the text of a scalar; false for objects and arrays. */
static bool add_scalar(struct sbuf *b, const json_t *v, bool html) {
  char num[64];
  switch (json_typeof(v)) {
  case JSON_STRING:
    sb_add_escaped(b, json_string_value(v), html);
    return true;
  case JSON_INTEGER:
    snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    sb_add(b, num, strlen(num));
    return true;
  case JSON_REAL:
    snprintf(num, sizeof(num), "%.15g", json_real_value(v));
    sb_add(b, num, strlen(num));
    return true;
  case JSON_TRUE:
    sb_add(b, "true", 4);
    return true;
  case JSON_FALSE:
    sb_add(b, "false", 5);
    return true;
  case JSON_NULL:
    return true;
  default:
    return false;
  }
}

h_result h_template_render_text(const char *text, const json_t *data, bool html, char **out,
                                struct h_template_error *err) {
  struct sbuf b = {0};
  const char *p = text, *open, *close, *name;
  size_t n;
  int found;
  *out = NULL;
  sb_add(&b, "", 0);
  while ((found = next_var(p, &open, &close, &name, &n)) == 1) {
    sb_add(&b, p, (size_t)(open - p));
    const json_t *v = lookup(data, name, n);
    char param[VAR_MAX + 8];
    snprintf(param, sizeof(param), "data.%.*s", (int)n, name);
    if (v == NULL || !add_scalar(&b, v, html)) {
      set_error(err, H_ERR_UNPROCESSABLE, param,
                v == NULL ? "The template needs the variable '%.*s' (%s is missing)."
                          : "The variable '%.*s' must be a string, number or boolean (%s).",
                (int)n, name, param);
      free(b.data);
      return H_ERR_UNPROCESSABLE;
    }
    p = close + 2;
  }
  if (found < 0) {
    set_error(err, H_ERR_INVALID, "template", "The template has an unclosed \"{{\" or a bad name.");
    free(b.data);
    return H_ERR_INVALID;
  }
  sb_add(&b, p, strlen(p));
  *out = b.data;
  return H_OK;
}

/* The channels and fields of template content, in the order they are rendered. */
struct channel_shape {
  const char *name;
  const char *fields[4]; /* NULL-terminated */
  int required;          /* how many of fields (from the start) are required */
};

static const struct channel_shape shapes[] = {
  {"email", {"subject", "text", "html", NULL}, 2},
  {"sms", {"text", NULL}, 1},
  {"push", {"title", "body", NULL}, 2},
  {"in_app", {"title", "body", NULL}, 2},
  {NULL, {NULL}, 0},
};

/* ---- locales ---- */

/* base with every field of over copied on top, channel by channel (new reference). */
static json_t *overlay(const json_t *base, const json_t *over) {
  json_t *out = json_deep_copy(base);
  const char *channel;
  json_t *fields;
  json_object_foreach((json_t *)over, channel, fields) {
    json_t *target = json_object_get(out, channel);
    if (target == NULL) {
      json_object_set_new(out, channel, json_deep_copy(fields));
    } else if (json_is_object(fields)) {
      json_object_update(target, fields);
    }
  }
  return out;
}

json_t *h_template_localize(const json_t *channels, const json_t *locales, const char *locale,
                            const char **used) {
  *used = NULL;
  if (locale == NULL || !json_is_object(locales)) {
    return json_deep_copy(channels);
  }
  const char *key;
  json_t *variant;
  json_object_foreach((json_t *)locales, key, variant) {
    if (strcmp(key, locale) == 0) {
      *used = key;
      return overlay(channels, variant);
    }
  }
  size_t lang = strcspn(locale, "-_");
  json_object_foreach((json_t *)locales, key, variant) {
    if (strlen(key) == lang && strncmp(key, locale, lang) == 0) {
      *used = key;
      return overlay(channels, variant);
    }
  }
  return json_deep_copy(channels);
}

/* Renders one channel's fields (in their canonical order) into a new object. */
static h_result render_channel(const struct channel_shape *sh, const json_t *fields,
                               const json_t *data, json_t **out, struct h_template_error *err) {
  *out = json_object();
  for (int i = 0; sh->fields[i] != NULL; i++) {
    const char *text = json_string_value(json_object_get(fields, sh->fields[i]));
    char *s = NULL;
    if (text == NULL) {
      continue;
    }
    h_result r = h_template_render_text(text, data, strcmp(sh->fields[i], "html") == 0, &s, err);
    if (r != H_OK) {
      json_decref(*out);
      *out = NULL;
      return r;
    }
    json_object_set_new(*out, sh->fields[i], json_string(s));
    free(s);
  }
  return H_OK;
}

h_result h_template_render_channels(const json_t *content, const json_t *data, json_t **out,
                                    struct h_template_error *err) {
  *out = json_object();
  for (const struct channel_shape *sh = shapes; sh->name != NULL; sh++) {
    const json_t *fields = json_object_get(content, sh->name);
    json_t *rendered = NULL;
    if (!json_is_object(fields)) {
      continue;
    }
    h_result r = render_channel(sh, fields, data, &rendered, err);
    if (r != H_OK) {
      json_decref(*out);
      *out = NULL;
      return r;
    }
    json_object_set_new(*out, sh->name, rendered);
  }
  return H_OK;
}

/* ---- validation ---- */

static void validate_field(const json_t *v, const char *param, struct h_field_errors *fe) {
  char why[160];
  if (!json_is_string(v)) {
    h_field_error(fe, param, "invalid_type", "Must be a string.");
  } else if (json_string_length(v) > FIELD_MAX) {
    h_field_error(fe, param, "too_long", "Must be at most %d characters.", FIELD_MAX);
  } else if (!h_template_syntax_ok(json_string_value(v), why, sizeof(why))) {
    h_field_error(fe, param, "invalid_template", "%s", why);
  }
}

static void validate_channel(const struct channel_shape *sh, const json_t *fields,
                             const char *prefix, bool partial, struct h_field_errors *fe) {
  char param[200];
  snprintf(param, sizeof(param), "%s.%s", prefix, sh->name);
  if (!json_is_object(fields)) {
    h_field_error(fe, param, "invalid_type", "Must be an object.");
    return;
  }
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)fields, key, v) {
    bool known = false;
    for (int i = 0; sh->fields[i] != NULL && !known; i++) {
      known = strcmp(key, sh->fields[i]) == 0;
    }
    snprintf(param, sizeof(param), "%s.%s.%.40s", prefix, sh->name, key);
    if (!known) {
      h_field_error(fe, param, "unknown_field", "Unknown field.");
    } else {
      validate_field(v, param, fe);
    }
  }
  for (int i = 0; !partial && i < sh->required; i++) {
    if (json_object_get(fields, sh->fields[i]) == NULL) {
      snprintf(param, sizeof(param), "%s.%s.%s", prefix, sh->name, sh->fields[i]);
      h_field_error(fe, param, "missing_field", "This field is required.");
    }
  }
}

void h_template_validate_channels(const json_t *channels, const char *prefix, bool partial,
                                  struct h_field_errors *fe) {
  if (!json_is_object(channels)) {
    h_field_error(fe, prefix, "invalid_type", "Must be an object.");
    return;
  }
  if (!partial && json_object_size(channels) == 0) {
    h_field_error(fe, prefix, "missing_field", "Give the content of at least one channel.");
  }
  const char *key;
  json_t *v;
  json_object_foreach((json_t *)channels, key, v) {
    const struct channel_shape *sh = shapes;
    while (sh->name != NULL && strcmp(sh->name, key) != 0) {
      sh++;
    }
    if (sh->name == NULL) {
      char param[200];
      snprintf(param, sizeof(param), "%s.%.40s", prefix, key);
      h_field_error(fe, param, "unknown_channel", "Must be one of email, sms, push, in_app.");
    } else {
      validate_channel(sh, v, prefix, partial, fe);
    }
  }
}
