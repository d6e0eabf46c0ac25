/* fuzz_money.c - money settings and amounts (core/money.c). Input lines: a fee table
 * ("CUR:bps:fixed,..."), a currency list ("USD,EUR" or "*"), a currency code, an amount. */
#include <stdbool.h>
#include <stdio.h>

#include "core/money.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *p[4];
  fuzz_split(data, size, p, 4);
  struct h_fee_table table;
  const char *why = NULL;
  long long amount = strtoll(p[3], NULL, 10);
  const struct h_currency *c = h_currency_find(p[2]);
  (void)h_currency_enabled(p[1], p[2]);
  free(h_money_config_check(p[1], p[0], p[0]));
  /* Fees are computed only for amounts the API accepted (at most HERALD_PAYMENT_MAX_AMOUNT,
   * itself at most 2^31 - 1), as payments.c does. */
  bool accepted = h_money_check_amount(c, amount, 2147483647) == NULL;
  bool parsed = h_fee_table_parse(p[0], &table, &why);
  for (size_t i = 0; parsed && i < table.count; i++) {
    if (table.rules[i].bps < 0 || table.rules[i].bps > 10000 || table.rules[i].fixed < 0) {
      abort(); /* the parser accepted a rule out of its documented range */
    }
  }
  if (h_currency_enabled(p[1], p[2]) && c == NULL) {
    abort();
  }
  if (parsed && accepted) {
    struct h_fee_rule rule = h_fee_rule_for(&table, p[2]);
    (void)h_fee_apply(&rule, amount);
    (void)h_fees_compute(&table, &table, p[2], amount);
  }
  char out[48];
  char tiny[4];
  h_money_format(c, amount, out, sizeof(out));
  h_money_format(c, amount, tiny, sizeof(tiny));
  fuzz_free_parts(p, 4);
  return 0;
}
