/* Unit tests: currencies, amount checks, formatting, fee tables and fee math. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/money.h"

static void test_currency_table(void **state) {
  (void)state;
  const struct h_currency *usd = h_currency_find("usd");
  assert_non_null(usd);
  assert_string_equal(usd->code, "USD");
  assert_int_equal(usd->exponent, 2);
  assert_int_equal(h_currency_find("JPY")->exponent, 0);
  assert_int_equal(h_currency_find("KRW")->exponent, 0);
  assert_int_equal(h_currency_find("KWD")->exponent, 3);
  assert_null(h_currency_find("XYZ"));
  assert_null(h_currency_find("US"));
  assert_null(h_currency_find("USDD"));
  assert_null(h_currency_find(NULL));
  for (const struct h_currency *c = h_currencies(); c->code[0] != '\0'; c++) {
    assert_int_equal(strlen(c->code), 3);
    assert_true(c->exponent == 0 || c->exponent == 2 || c->exponent == 3);
    assert_true(c->min_amount > 0);
  }
}

static void test_currency_enabled(void **state) {
  (void)state;
  assert_true(h_currency_enabled("*", "eur"));
  assert_true(h_currency_enabled("USD, EUR", "EUR"));
  assert_true(h_currency_enabled("usd,jpy", "JPY"));
  assert_false(h_currency_enabled("USD,EUR", "GBP"));
  assert_false(h_currency_enabled("*", "XYZ"));
  assert_false(h_currency_enabled("", "USD"));
}

static void test_amount_checks(void **state) {
  (void)state;
  const struct h_currency *usd = h_currency_find("USD");
  const struct h_currency *kwd = h_currency_find("KWD");
  assert_null(h_money_check_amount(usd, 50, 1000));
  assert_null(h_money_check_amount(usd, 1000, 1000));
  assert_string_equal(h_money_check_amount(usd, 0, 1000), "amount_not_positive");
  assert_string_equal(h_money_check_amount(usd, -1, 1000), "amount_not_positive");
  assert_string_equal(h_money_check_amount(usd, 1001, 1000), "amount_too_large");
  assert_string_equal(h_money_check_amount(usd, 49, 1000), "amount_too_small");
  assert_string_equal(h_money_check_amount(kwd, 1235, 100000), "amount_invalid_precision");
  assert_null(h_money_check_amount(kwd, 1230, 100000));
  assert_null(h_money_check_amount(NULL, 1, 10)); /* unknown currency: only sign and max */
}

static void test_format(void **state) {
  (void)state;
  char out[64];
  h_money_format(h_currency_find("USD"), 1234, out, sizeof(out));
  assert_string_equal(out, "12.34 USD");
  h_money_format(h_currency_find("USD"), 5, out, sizeof(out));
  assert_string_equal(out, "0.05 USD");
  h_money_format(h_currency_find("JPY"), 1000, out, sizeof(out));
  assert_string_equal(out, "1000 JPY");
  h_money_format(h_currency_find("KWD"), 1230, out, sizeof(out));
  assert_string_equal(out, "1.230 KWD");
  h_money_format(h_currency_find("EUR"), -250, out, sizeof(out));
  assert_string_equal(out, "-2.50 EUR");
}

static void test_fee_table_parse(void **state) {
  (void)state;
  struct h_fee_table t;
  const char *why = NULL;
  assert_true(h_fee_table_parse("*:290:30, EUR:150:25,jpy:360:0", &t, &why));
  assert_int_equal(t.count, 3);
  assert_string_equal(t.rules[2].currency, "JPY");
  assert_true(h_fee_table_parse("", &t, &why));
  assert_int_equal(t.count, 0);
  static const char *const bad[] = {"USD", "USD:1", "XYZ:1:1", "USD:10001:0", "USD:-1:0",
                                    "USD:1:x", "US:1:1", "USD:1:1234567890123"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    assert_false(h_fee_table_parse(bad[i], &t, &why));
    assert_non_null(why);
  }
}

static void test_fee_math(void **state) {
  (void)state;
  struct h_fee_table provider, platform;
  const char *why = NULL;
  assert_true(h_fee_table_parse("*:290:30,JPY:360:0", &provider, &why));
  assert_true(h_fee_table_parse("*:100:0", &platform, &why));
  struct h_fees f = h_fees_compute(&provider, &platform, "USD", 2500);
  assert_int_equal(f.provider, 103); /* 72.5 rounds half up to 73, + 30 */
  assert_int_equal(f.platform, 25);
  assert_int_equal(f.net, 2372);
  f = h_fees_compute(&provider, &platform, "JPY", 5000);
  assert_int_equal(f.provider, 180);
  assert_int_equal(f.platform, 50);
  assert_int_equal(f.net, 4770);
  f = h_fees_compute(&provider, &platform, "EUR", 99999999);
  assert_int_equal(f.provider, 2900030);
  assert_int_equal(f.platform, 1000000);
  struct h_fee_table none;
  assert_true(h_fee_table_parse("", &none, &why));
  f = h_fees_compute(&none, &none, "USD", 777);
  assert_int_equal(f.provider, 0);
  assert_int_equal(f.net, 777);
  struct h_fee_rule r = h_fee_rule_for(&provider, "GBP");
  assert_string_equal(r.currency, "*");
}

static void test_config_check(void **state) {
  (void)state;
  char *e = h_money_config_check("*", "*:290:30", "");
  assert_null(e);
  e = h_money_config_check("USD,XYZ", "", "");
  assert_non_null(strstr(e, "HERALD_PAYMENT_CURRENCIES"));
  free(e);
  e = h_money_config_check("USD", "USD:1", "");
  assert_non_null(strstr(e, "HERALD_PAYMENT_PROVIDER_FEES"));
  free(e);
  e = h_money_config_check("USD", "", "*:x:0");
  assert_non_null(strstr(e, "HERALD_PAYMENT_PLATFORM_FEES"));
  free(e);
  e = h_money_config_check(" , ", "", "");
  assert_non_null(e);
  free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_currency_table), cmocka_unit_test(test_currency_enabled),
    cmocka_unit_test(test_amount_checks),  cmocka_unit_test(test_format),
    cmocka_unit_test(test_fee_table_parse), cmocka_unit_test(test_fee_math),
    cmocka_unit_test(test_config_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
