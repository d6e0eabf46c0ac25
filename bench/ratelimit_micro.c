/* ratelimit_micro.c - microbenchmark of the rate limiter's Redis step (store/rate_counter.h):
 * client CPU and wall time of one h_rate_count with 1 and 2 keys (one pipelined round trip
 * each), and with 2 keys counted from leases (one address and 1,000 users, the limits of
 * the API benchmarks, 10^8, leases of at most 64: store/rate_counter.h), serially against a local Redis, beside a
 * bare PING round trip. Built and run by
 * bench/ratelimit_micro.sh. Usage: ratelimit_micro REDIS_URL [calls]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include "store/rate_counter.h"
#include "store/redis.h"

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
static double wall_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
int main(int argc, char **argv) {
  int n = argc > 2 ? atoi(argv[2]) : 50000;
  struct h_redis_target target;
  if (argc < 2 || h_redis_parse_url(argv[1], 1000, &target) != H_OK) {
    fprintf(stderr, "usage: ratelimit_micro REDIS_URL [calls]\n");
    return 2;
  }
  struct h_redis_pool *pool = h_redis_pool_create(&target, 1, 1000);
  struct h_rate_local *local = h_rate_local_create(1024);
  struct h_rate_leases *leases = h_rate_leases_create(4096, 64);
  static const char *const names[] = {"PING (one round trip)", "h_rate_count, 1 key",
                                      "h_rate_count, 2 keys", "h_rate_count, 2 keys, leased"};
  char k1[64], k2[64];
  for (int mode = 0; mode < 4; mode++) {
    double c0 = cpu_s(), w0 = wall_s();
    for (int i = 0; i < n; i++) {
      if (mode == 0) {
        h_redis_ping(pool);
      } else {
        snprintf(k1, sizeof(k1), "herald:rl:write:ip:10.0.%d.%d", mode == 3 ? 0 : (i / 250) % 250,
                 mode == 3 ? 1 : i % 250);
        snprintf(k2, sizeof(k2), "herald:rl:write:u:user-%d", i % 1000);
        struct h_rate_hit hits[2] = {{.key = k1, .window_s = 60, .limit = 100000000},
                                     {.key = k2, .window_s = 60, .limit = 100000000}};
        bool loc;
        h_rate_count(pool, local, mode == 3 ? leases : NULL, hits, mode == 1 ? 1 : 2, &loc);
        if (loc) {
          fprintf(stderr, "Redis did not answer: counted in process\n");
          return 1;
        }
      }
    }
    double c1 = cpu_s(), w1 = wall_s();
    printf("%-30s client CPU %.1f us/call, wall %.1f us/call\n", names[mode],
           (c1 - c0) * 1e6 / n, (w1 - w0) * 1e6 / n);
  }
  h_rate_local_destroy(local);
  h_rate_leases_destroy(leases);
  h_redis_pool_destroy(pool);
  return 0;
}
