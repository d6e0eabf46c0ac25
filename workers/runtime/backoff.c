/* backoff.c - exponential backoff with equal jitter. */
#include "backoff.h"

long long h_backoff_ceiling_ms(int attempt, int base_ms, int max_ms) {
  long long d = base_ms > 0 ? base_ms : 1;
  for (int i = 1; i < attempt && d < max_ms; i++) {
    d *= 2;
  }
  return d < max_ms ? d : max_ms;
}

long long h_backoff_ms(int attempt, int base_ms, int max_ms, double r01) {
  long long d = h_backoff_ceiling_ms(attempt, base_ms, max_ms);
  long long half = d / 2;
  if (r01 < 0) {
    r01 = 0;
  }
  if (r01 >= 1) {
    r01 = 0.999999;
  }
  return half + (long long)(r01 * (double)(d - half));
}

long long h_retry_delay_ms(int attempt, int base_ms, int max_ms, int retry_after_s, double r01) {
  long long d = h_backoff_ms(attempt, base_ms, max_ms, r01);
  long long floor_ms = retry_after_s >= 0 ? (long long)retry_after_s * 1000 : 0;
  long long cap = 7LL * 86400 * 1000;
  d = d > floor_ms ? d : floor_ms;
  return d < cap ? d : cap;
}

double h_rng_unit(uint64_t *state) {
  uint64_t x = *state != 0 ? *state : 0x9E3779B97F4A7C15ULL;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *state = x;
  return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}
