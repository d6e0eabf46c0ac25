/* money.c - the currency table, amount checks, formatting and fees. */
#include "core/money.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"

/* Exponents per ISO 4217 as card processors use them; minimums are roughly what a
 * card charge must cover (about 0.50 USD), as providers enforce. */
static const struct h_currency currencies[] = {
  {"AED", 2, 200},    {"AUD", 2, 50},     {"BHD", 3, 200},   {"BRL", 2, 50},
  {"CAD", 2, 50},     {"CHF", 2, 50},     {"CLP", 0, 500},   {"CZK", 2, 1500},
  {"DKK", 2, 250},    {"EUR", 2, 50},     {"GBP", 2, 30},    {"HKD", 2, 400},
  {"ILS", 2, 200},    {"INR", 2, 50},     {"JOD", 3, 400},   {"JPY", 0, 50},
  {"KES", 2, 100},    {"KRW", 0, 700},    {"KWD", 3, 200},    {"MXN", 2, 1000},  {"MYR", 2, 200},
  {"NOK", 2, 300},    {"NZD", 2, 50},     {"OMR", 3, 200},   {"PLN", 2, 200},
  {"PYG", 0, 3500},   {"RON", 2, 200},    {"SEK", 2, 300},   {"SGD", 2, 50},
  {"THB", 2, 1000},   {"TND", 3, 1500},   {"USD", 2, 50},    {"VND", 0, 12000},
  {"XAF", 0, 300},    {"XOF", 0, 300},    {"ZAR", 2, 900},   {"", 0, 0},
};

const struct h_currency *h_currencies(void) { return currencies; }

const struct h_currency *h_currency_find(const char *code) {
  if (code == NULL || strlen(code) != 3) {
    return NULL;
  }
  for (const struct h_currency *c = currencies; c->code[0] != '\0'; c++) {
    if (strcasecmp(c->code, code) == 0) {
      return c;
    }
  }
  return NULL;
}

bool h_currency_enabled(const char *allowed, const char *code) {
  if (h_currency_find(code) == NULL || allowed == NULL) {
    return false;
  }
  const char *p = allowed;
  while (*p != '\0') {
    p += strspn(p, " ,");
    size_t n = strcspn(p, " ,");
    if ((n == 1 && *p == '*') || (n == 3 && strncasecmp(p, code, 3) == 0)) {
      return true;
    }
    p += n;
  }
  return false;
}

const char *h_money_check_amount(const struct h_currency *c, long long amount, long long max) {
  if (amount <= 0) {
    return "amount_not_positive";
  }
  if (amount > max) {
    return "amount_too_large";
  }
  if (c != NULL && amount < c->min_amount) {
    return "amount_too_small";
  }
  if (c != NULL && c->exponent == 3 && amount % 10 != 0) {
    return "amount_invalid_precision";
  }
  return NULL;
}

void h_money_format(const struct h_currency *c, long long amount, char *out, size_t outlen) {
  if (c == NULL) {
    snprintf(out, outlen, "%lld (minor units)", amount);
    return;
  }
  unsigned long long scale = 1;
  for (int i = 0; i < c->exponent; i++) {
    scale *= 10;
  }
  const char *sign = amount < 0 ? "-" : "";
  /* The magnitude in unsigned arithmetic, so LLONG_MIN has one too. */
  unsigned long long a = amount < 0 ? 0ULL - (unsigned long long)amount : (unsigned long long)amount;
  if (c->exponent == 0) {
    snprintf(out, outlen, "%s%llu %s", sign, a, c->code);
  } else {
    snprintf(out, outlen, "%s%llu.%0*llu %s", sign, a / scale, c->exponent, a % scale, c->code);
  }
}

/* Reads a non-negative decimal integer of at most 12 digits. */
static bool parse_count(const char *s, size_t n, long long *out) {
  if (n == 0 || n > 12) {
    return false;
  }
  long long v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isdigit((unsigned char)s[i])) {
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

/* Parses one "CUR:bps:fixed" item of length n. */
static bool parse_rule(const char *s, size_t n, struct h_fee_rule *rule, const char **why) {
  const char *c1 = memchr(s, ':', n);
  const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - s)) : NULL;
  if (c1 == NULL || c2 == NULL) {
    *why = "each item must be CUR:bps:fixed";
    return false;
  }
  size_t clen = (size_t)(c1 - s);
  long long bps = 0, fixed = 0;
  if (clen == 1 && s[0] == '*') {
    snprintf(rule->currency, sizeof(rule->currency), "*");
  } else if (clen == 3) {
    char code[4] = {s[0], s[1], s[2], '\0'};
    const struct h_currency *c = h_currency_find(code);
    if (c == NULL) {
      *why = "unknown currency";
      return false;
    }
    memcpy(rule->currency, c->code, sizeof(rule->currency));
  } else {
    *why = "the currency must be a 3-letter code or *";
    return false;
  }
  if (!parse_count(c1 + 1, (size_t)(c2 - c1 - 1), &bps) || bps > 10000 ||
      !parse_count(c2 + 1, n - (size_t)(c2 + 1 - s), &fixed)) {
    *why = "bps must be 0..10000 and fixed a non-negative integer";
    return false;
  }
  rule->bps = (long)bps;
  rule->fixed = fixed;
  return true;
}

bool h_fee_table_parse(const char *spec, struct h_fee_table *out, const char **why) {
  memset(out, 0, sizeof(*out));
  *why = NULL;
  const char *p = spec != NULL ? spec : "";
  while (*p != '\0') {
    p += strspn(p, " ,");
    size_t n = strcspn(p, " ,");
    if (n == 0) {
      break;
    }
    if (out->count == H_FEE_RULES_MAX) {
      *why = "too many items";
      return false;
    }
    if (!parse_rule(p, n, &out->rules[out->count], why)) {
      return false;
    }
    out->count++;
    p += n;
  }
  return true;
}

struct h_fee_rule h_fee_rule_for(const struct h_fee_table *t, const char *currency) {
  struct h_fee_rule none = {"*", 0, 0};
  const struct h_fee_rule *fallback = NULL;
  for (size_t i = 0; i < t->count; i++) {
    if (strcasecmp(t->rules[i].currency, currency) == 0) {
      return t->rules[i];
    }
    if (strcmp(t->rules[i].currency, "*") == 0) {
      fallback = &t->rules[i];
    }
  }
  return fallback != NULL ? *fallback : none;
}

long long h_fee_apply(const struct h_fee_rule *rule, long long amount) {
  if (amount <= 0) {
    return 0;
  }
  /* amount < 10^12 and bps <= 10^4, so the product stays far below 2^63. */
  return (amount * rule->bps + 5000) / 10000 + rule->fixed;
}

struct h_fees h_fees_compute(const struct h_fee_table *provider, const struct h_fee_table *platform,
                             const char *currency, long long amount) {
  struct h_fee_rule pr = h_fee_rule_for(provider, currency);
  struct h_fee_rule pl = h_fee_rule_for(platform, currency);
  struct h_fees f;
  f.provider = h_fee_apply(&pr, amount);
  f.platform = h_fee_apply(&pl, amount);
  f.net = amount - f.provider - f.platform;
  return f;
}

char *h_money_config_check(const char *enabled, const char *provider_fees,
                           const char *platform_fees) {
  struct h_fee_table t;
  const char *why = NULL;
  if (!h_fee_table_parse(provider_fees, &t, &why)) {
    return h_sprintf("HERALD_PAYMENT_PROVIDER_FEES: %s", why);
  }
  if (!h_fee_table_parse(platform_fees, &t, &why)) {
    return h_sprintf("HERALD_PAYMENT_PLATFORM_FEES: %s", why);
  }
  size_t listed = 0;
  for (const char *p = enabled; *p != '\0';) {
    p += strspn(p, " ,");
    size_t n = strcspn(p, " ,");
    if (n == 0) {
      break;
    }
    char code[8];
    snprintf(code, sizeof(code), "%.*s", (int)(n < 7 ? n : 7), p);
    if (strcmp(code, "*") != 0 && h_currency_find(code) == NULL) {
      return h_sprintf("HERALD_PAYMENT_CURRENCIES: '%s' is not a supported currency", code);
    }
    listed++;
    p += n;
  }
  return listed == 0 ? h_sprintf("HERALD_PAYMENT_CURRENCIES: list at least one currency or *")
                     : NULL;
}
