/* fuzz_template.c - a template text (templates/template.c): the syntax check the API runs on
 * save, then rendering as text and as HTML with a fixed data object. */
#include <jansson.h>

#include "fuzz_input.h"
#include "templates/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static json_t *vars;
  if (vars == NULL) {
    vars = json_pack("{s:s, s:i, s:b, s:n, s:{s:s, s:{s:s}}, s:[i]}", "name", "Ada <&>\"'",
                     "count", 3, "flag", 1, "nothing", "user", "first_name", "Ada", "address",
                     "city", "Z\xc3\xbcrich", "list", 1);
  }
  char *text = fuzz_strndup(data, size);
  char why[128];
  bool syntax_ok = h_template_syntax_ok(text, why, sizeof(why));
  for (int html = 0; html < 2; html++) {
    char *out = NULL;
    struct h_template_error err;
    if (h_template_render_text(text, vars, html == 1, &out, &err) == H_OK) {
      if (!syntax_ok) {
        abort(); /* rendered a text the syntax check refuses */
      }
      free(out);
    }
  }
  (void)h_template_key_valid(text);
  free(text);
  return 0;
}
