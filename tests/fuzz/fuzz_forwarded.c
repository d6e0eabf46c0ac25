/* fuzz_forwarded.c - X-Forwarded-For behind trusted proxies (net/forwarded.c). Input lines:
 * HERALD_TRUSTED_PROXIES, the peer address, the X-Forwarded-For header. The client must be
 * the peer (cut to the buffer) or an IPv4 address. */
#include <arpa/inet.h>

#include "fuzz_input.h"
#include "net/forwarded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *p[3];
  fuzz_split(data, size, p, 3);
  free(h_forwarded_config_check(p[0]));
  (void)h_forwarded_trusted(p[0], p[1]);
  char out[64];
  h_forwarded_client(p[0], p[1], p[2], out, sizeof(out));
  struct in_addr addr;
  if (strncmp(out, p[1], sizeof(out) - 1) != 0 && inet_pton(AF_INET, out, &addr) != 1) {
    abort(); /* the client is neither the peer nor an address */
  }
  char small[8];
  h_forwarded_client(p[0], p[1], p[2], small, sizeof(small));
  h_forwarded_client(p[0], p[1], NULL, out, sizeof(out));
  fuzz_free_parts(p, 3);
  return 0;
}
