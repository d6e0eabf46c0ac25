/* money.h - amounts in integer minor units, ISO 4217 currencies and fee arithmetic.
 *
 * Nothing here uses floating point: an amount is a long long count of the
 * currency's minor unit (cents for USD, yen for JPY, fils for KWD). The currency
 * table knows each currency's exponent and the smallest amount the provider
 * accepts. Fee tables are configured as text, "CUR:bps:fixed,...", where "*" is
 * the row used for currencies not listed, bps is a rate in basis points (1/100 of
 * a percent) and fixed is in the currency's minor units. */
#ifndef HERALD_MONEY_H
#define HERALD_MONEY_H

#include <stdbool.h>
#include <stddef.h>

struct h_currency {
  char code[4];        /* "USD" */
  int exponent;        /* 2 for USD, 0 for JPY, 3 for KWD */
  long long min_amount; /* smallest chargeable amount in minor units */
};

/* The currency of an ISO 4217 code (either case), or NULL when unknown. Static. */
const struct h_currency *h_currency_find(const char *code);

/* Every known currency, terminated by a row with an empty code. Static. */
const struct h_currency *h_currencies(void);

/* True when code is a known currency and appears in the comma-separated allowed
 * list ("USD,EUR"; "*" allows every known currency). Case-insensitive. */
bool h_currency_enabled(const char *allowed, const char *code);

/* Checks an amount for a currency and a configured maximum. Returns NULL when
 * acceptable, else a static error code: "amount_not_positive", "amount_too_small",
 * "amount_too_large", "amount_invalid_precision" (three-decimal currencies take
 * multiples of 10, as card networks do). */
const char *h_money_check_amount(const struct h_currency *c, long long amount, long long max);

/* Writes "12.34 USD", "1000 JPY", "1.230 KWD" into out (c NULL: the bare number). */
void h_money_format(const struct h_currency *c, long long amount, char *out, size_t outlen);

/* One row of a fee table. */
struct h_fee_rule {
  char currency[4]; /* "USD", or "*" */
  long bps;         /* 0..10000 */
  long long fixed;  /* minor units, >= 0 */
};

#define H_FEE_RULES_MAX 64

struct h_fee_table {
  size_t count;
  struct h_fee_rule rules[H_FEE_RULES_MAX];
};

/* Parses "CUR:bps:fixed,..." (spaces allowed around items). Returns true on
 * success; otherwise false with a static reason in *why. An empty spec is an
 * empty table (no fees). */
bool h_fee_table_parse(const char *spec, struct h_fee_table *out, const char **why);

/* The rule for a currency: its own row, else the "*" row, else zero fees. Static
 * or borrowed from t. */
struct h_fee_rule h_fee_rule_for(const struct h_fee_table *t, const char *currency);

/* bps of amount rounded half up, plus fixed. */
long long h_fee_apply(const struct h_fee_rule *rule, long long amount);

struct h_fees {
  long long provider; /* estimated provider fee */
  long long platform; /* Herald's fee */
  long long net;      /* amount - provider - platform (may be negative for tiny amounts) */
};

/* Both fees of a charge of amount in currency. */
struct h_fees h_fees_compute(const struct h_fee_table *provider, const struct h_fee_table *platform,
                             const char *currency, long long amount);

/* Validates the payment settings at start: the currency list names only known
 * currencies (or *) and both fee tables parse. Returns NULL when valid, else a
 * message naming the variable (caller frees). */
char *h_money_config_check(const char *enabled, const char *provider_fees,
                           const char *platform_fees);

#endif
