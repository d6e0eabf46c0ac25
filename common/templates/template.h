/* template.h - notification templates: {{variable}} rendering, locale variants and the
 * shape of a template's channel content. Pure code (no I/O), shared by the API (send,
 * preview) and anything else that renders.
 *
 * A template's content is {"email":{"subject","text","html"?}, "sms":{"text"},
 * "push":{"title","body"}, "in_app":{"title","body"}} (any non-empty subset of the
 * channels). Locale variants have the same shape with every field optional; a variant
 * overrides the base content field by field. Variables are {{name}} or {{a.b}} (dots
 * walk nested objects of data); values are substituted as text, HTML-escaped in fields
 * named "html". A missing variable is an error naming it. */
#ifndef HERALD_TEMPLATE_H
#define HERALD_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/errors.h"
#include "core/result.h"

struct h_template_error {
  h_result code;      /* H_ERR_INVALID (syntax) or H_ERR_UNPROCESSABLE (missing variable) */
  char param[160];    /* "data.first_name" or "channels.email.subject" */
  char message[256];
};

/* A template key: 1-64 of [a-z0-9_.-], starting with a letter or digit. */
bool h_template_key_valid(const char *s);

/* True when every "{{" is closed by "}}" around a valid variable name; otherwise false
 * with a short reason in why. */
bool h_template_syntax_ok(const char *text, char *why, size_t whylen);

/* Renders text with data (borrowed, may be NULL). html=true escapes & < > " ' in the
 * substituted values. On H_OK *out is a new string the caller frees; otherwise *out is
 * NULL and err says which variable or what syntax failed. */
h_result h_template_render_text(const char *text, const json_t *data, bool html, char **out,
                                struct h_template_error *err);

/* The content for locale (borrowed inputs; locales may be NULL): the base channels
 * overlaid with locales[locale], else locales[<language>] ("pt" for "pt-BR"), else the
 * base alone. *used is set to the matching key of locales (borrowed from it) or NULL
 * for the base. Returns a new reference. */
json_t *h_template_localize(const json_t *channels, const json_t *locales, const char *locale,
                            const char **used);

/* Renders the fields of content (a channels document) into a new object of the same shape
 * (*out, new reference), channel by channel in the order email, sms, push, in_app; unknown
 * channels and fields are left out. err->param names the first missing variable ("data.x"). */
h_result h_template_render_channels(const json_t *content, const json_t *data, json_t **out,
                                    struct h_template_error *err);

/* Validates a channels document into fe, params prefixed with prefix ("channels" or
 * "locales.fr"): known channels and fields, strings of at most 100,000 characters,
 * template syntax, and (unless partial) the required fields and at least one channel. */
void h_template_validate_channels(const json_t *channels, const char *prefix, bool partial,
                                  struct h_field_errors *fe);

#endif
