/* Unit tests: {{variable}} rendering, HTML escaping, locale fallback and the validation
 * of a template's channel content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "templates/template.h"

static json_t *J(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  if (j == NULL) {
    fail_msg("bad JSON in test: %s", e.text);
  }
  return j;
}

static void expect_render(const char *tpl, const char *data, bool html, const char *want) {
  json_t *d = J(data);
  char *out = NULL;
  struct h_template_error err;
  assert_int_equal(h_template_render_text(tpl, d, html, &out, &err), H_OK);
  assert_string_equal(out, want);
  free(out);
  json_decref(d);
}

static void test_substitutes_variables(void **state) {
  (void)state;
  expect_render("Hi {{name}}!", "{\"name\":\"Ann\"}", false, "Hi Ann!");
  expect_render("{{ name }}/{{name}}", "{\"name\":\"x\"}", false, "x/x");
  expect_render("no variables", "{}", false, "no variables");
  expect_render("", "{}", false, "");
  expect_render("{{a.b.c}}", "{\"a\":{\"b\":{\"c\":\"deep\"}}}", false, "deep");
  expect_render("{{n}} {{f}} {{t}} {{no}} [{{z}}]",
                "{\"n\":42,\"f\":1.5,\"t\":true,\"no\":false,\"z\":null}", false,
                "42 1.5 true false []");
  expect_render("a }} b", "{}", false, "a }} b");
  expect_render("{{order-id}} {{x_1}}", "{\"order-id\":\"A-1\",\"x_1\":\"y\"}", false, "A-1 y");
}

static void test_html_escaping_only_in_html(void **state) {
  (void)state;
  const char *data = "{\"name\":\"<b>Ann & \\\"co\\\" 'x'</b>\"}";
  expect_render("<p>{{name}}</p>", data, true,
                "<p>&lt;b&gt;Ann &amp; &quot;co&quot; &#39;x&#39;&lt;/b&gt;</p>");
  expect_render("{{name}}", data, false, "<b>Ann & \"co\" 'x'</b>");
}

static void expect_error(const char *tpl, const char *data, h_result code, const char *param) {
  json_t *d = J(data);
  char *out = (char *)"sentinel";
  struct h_template_error err;
  assert_int_equal(h_template_render_text(tpl, d, false, &out, &err), code);
  assert_null(out);
  assert_int_equal(err.code, code);
  assert_string_equal(err.param, param);
  json_decref(d);
}

static void test_missing_variable_is_named(void **state) {
  (void)state;
  expect_error("Hi {{name}}", "{}", H_ERR_UNPROCESSABLE, "data.name");
  expect_error("{{a.b}}", "{\"a\":\"scalar\"}", H_ERR_UNPROCESSABLE, "data.a.b");
  expect_error("{{obj}}", "{\"obj\":{\"x\":1}}", H_ERR_UNPROCESSABLE, "data.obj");
  expect_error("{{list}}", "{\"list\":[1]}", H_ERR_UNPROCESSABLE, "data.list");
  json_t *d = J("{}");
  char *out = NULL;
  struct h_template_error err;
  assert_int_equal(h_template_render_text("{{x}}", NULL, false, &out, &err), H_ERR_UNPROCESSABLE);
  assert_non_null(strstr(err.message, "'x'"));
  json_decref(d);
}

static void test_syntax(void **state) {
  (void)state;
  char why[160];
  assert_true(h_template_syntax_ok("Hello {{ name }} and {{a.b}}", why, sizeof(why)));
  assert_false(h_template_syntax_ok("Hello {{name", why, sizeof(why)));
  assert_false(h_template_syntax_ok("{{}}", why, sizeof(why)));
  assert_false(h_template_syntax_ok("{{a b}}", why, sizeof(why)));
  assert_false(h_template_syntax_ok("{{.a}}", why, sizeof(why)));
  assert_false(h_template_syntax_ok("{{a.}}", why, sizeof(why)));
  assert_false(h_template_syntax_ok("{{a..b}}", why, sizeof(why)));
  expect_error("{{bad name}}", "{}", H_ERR_INVALID, "template");
  assert_true(h_template_key_valid("welcome.v2_a-b"));
  assert_false(h_template_key_valid("Welcome"));
  assert_false(h_template_key_valid("_x"));
  assert_false(h_template_key_valid(""));
  assert_false(h_template_key_valid(NULL));
}

static const char *BASE = "{\"email\":{\"subject\":\"Hi {{name}}\",\"text\":\"Hello\"},"
                          "\"sms\":{\"text\":\"SMS {{name}}\"}}";
static const char *LOCALES = "{\"fr\":{\"email\":{\"subject\":\"Salut {{name}}\"}},"
                             "\"pt\":{\"sms\":{\"text\":\"Ola {{name}}\"}},"
                             "\"pt-BR\":{\"push\":{\"title\":\"T\",\"body\":\"B\"}}}";

static void expect_localized(const char *locale, const char *used, const char *subject,
                             const char *sms) {
  json_t *base = J(BASE), *locales = J(LOCALES);
  const char *got_used = NULL;
  json_t *c = h_template_localize(base, locales, locale, &got_used);
  if (used == NULL) {
    assert_null(got_used);
  } else {
    assert_string_equal(got_used, used);
  }
  json_t *email = json_object_get(c, "email");
  assert_string_equal(json_string_value(json_object_get(email, "subject")), subject);
  assert_string_equal(json_string_value(json_object_get(email, "text")), "Hello");
  assert_string_equal(json_string_value(json_object_get(json_object_get(c, "sms"), "text")), sms);
  /* The base is never modified. */
  assert_string_equal(
      json_string_value(json_object_get(json_object_get(base, "email"), "subject")),
      "Hi {{name}}");
  json_decref(c);
  json_decref(base);
  json_decref(locales);
}

static void test_locale_fallback(void **state) {
  (void)state;
  expect_localized("fr", "fr", "Salut {{name}}", "SMS {{name}}");
  expect_localized("fr-CA", "fr", "Salut {{name}}", "SMS {{name}}");
  expect_localized("pt-PT", "pt", "Hi {{name}}", "Ola {{name}}");
  expect_localized("de", NULL, "Hi {{name}}", "SMS {{name}}");
  expect_localized(NULL, NULL, "Hi {{name}}", "SMS {{name}}");
  /* An exact match wins over the language, and may add a channel. */
  json_t *base = J(BASE), *locales = J(LOCALES);
  const char *used = NULL;
  json_t *c = h_template_localize(base, locales, "pt-BR", &used);
  assert_string_equal(used, "pt-BR");
  assert_non_null(json_object_get(c, "push"));
  json_decref(c);
  json_decref(base);
  json_decref(locales);
}

static void test_render_channels(void **state) {
  (void)state;
  json_t *content =
      J("{\"email\":{\"subject\":\"{{n}}\",\"text\":\"{{n}}\",\"html\":\"<i>{{n}}</i>\"}}");
  json_t *data = J("{\"n\":\"a<b\"}");
  json_t *out = NULL;
  struct h_template_error err;
  assert_int_equal(h_template_render_channels(content, data, &out, &err), H_OK);
  json_t *email = json_object_get(out, "email");
  assert_string_equal(json_string_value(json_object_get(email, "subject")), "a<b");
  assert_string_equal(json_string_value(json_object_get(email, "html")), "<i>a&lt;b</i>");
  json_decref(out);
  json_t *empty = J("{}");
  assert_int_equal(h_template_render_channels(content, empty, &out, &err), H_ERR_UNPROCESSABLE);
  assert_null(out);
  assert_string_equal(err.param, "data.n");
  json_decref(empty);
  json_decref(content);
  json_decref(data);
}

static size_t count_validation(const char *channels, bool partial, const char *first_param) {
  json_t *c = J(channels);
  struct h_field_errors fe = {0};
  h_template_validate_channels(c, "channels", partial, &fe);
  size_t n = h_field_errors_count(&fe);
  if (first_param != NULL) {
    json_t *e = json_array_get(fe.list, 0);
    assert_string_equal(json_string_value(json_object_get(e, "param")), first_param);
  }
  h_field_errors_clear(&fe);
  json_decref(c);
  return n;
}

static void test_validate_channels(void **state) {
  (void)state;
  assert_int_equal(count_validation("{\"sms\":{\"text\":\"x\"}}", false, NULL), 0);
  assert_int_equal(count_validation("{}", false, "channels"), 1);
  assert_int_equal(count_validation("{}", true, NULL), 0);
  assert_int_equal(count_validation("{\"fax\":{}}", false, "channels.fax"), 1);
  assert_int_equal(count_validation("{\"email\":{\"text\":\"x\"}}", false,
                                    "channels.email.subject"), 1);
  assert_int_equal(count_validation("{\"email\":{\"text\":\"x\"}}", true, NULL), 0);
  assert_int_equal(count_validation("{\"push\":{\"title\":1,\"body\":\"{{x\",\"icon\":\"i\"}}",
                                    false, NULL), 3);
  assert_int_equal(count_validation("{\"in_app\":\"text\"}", false, "channels.in_app"), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_substitutes_variables),
    cmocka_unit_test(test_html_escaping_only_in_html),
    cmocka_unit_test(test_missing_variable_is_named),
    cmocka_unit_test(test_syntax),
    cmocka_unit_test(test_locale_fallback),
    cmocka_unit_test(test_render_channels),
    cmocka_unit_test(test_validate_channels),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
