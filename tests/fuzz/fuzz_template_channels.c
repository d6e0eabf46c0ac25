/* fuzz_template_channels.c - a template document from a request body (templates/template.c):
 * {"channels":{...},"locales":{...},"data":{...},"locale":"pt-BR"} validated as the API does
 * on save, localized and rendered as on send and preview. */
#include <jansson.h>

#include "core/errors.h"
#include "fuzz_input.h"
#include "templates/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t jerr;
  json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
  if (!json_is_object(doc)) {
    json_decref(doc);
    return 0;
  }
  const json_t *channels = json_object_get(doc, "channels");
  const json_t *locales = json_object_get(doc, "locales");
  const json_t *vars = json_object_get(doc, "data");
  const char *locale = json_string_value(json_object_get(doc, "locale"));
  struct h_field_errors fe = {0};
  h_template_validate_channels(channels, "channels", false, &fe);
  if (json_is_object(locales)) {
    const char *key;
    json_t *variant;
    json_object_foreach((json_t *)locales, key, variant) {
      h_template_validate_channels(variant, "locales.fr", true, &fe);
    }
  }
  bool valid = h_field_errors_count(&fe) == 0;
  h_field_errors_clear(&fe);
  if (valid && json_is_object(channels)) {
    const char *used = NULL;
    json_t *content = h_template_localize(channels, locales, locale, &used);
    json_t *out = NULL;
    struct h_template_error err;
    if (h_template_render_channels(content, vars, &out, &err) == H_OK) {
      json_decref(out);
    }
    json_decref(content);
  }
  json_decref(doc);
  return 0;
}
