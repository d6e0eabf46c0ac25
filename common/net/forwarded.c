/* forwarded.c - the client address behind trusted proxies. */
#include "net/forwarded.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/text.h"

/* Parses "a.b.c.d" (n bytes at s) into *addr (host order). */
static bool parse_ipv4(const char *s, size_t n, uint32_t *addr) {
  char buf[INET_ADDRSTRLEN];
  struct in_addr in;
  if (n == 0 || n >= sizeof(buf)) {
    return false;
  }
  memcpy(buf, s, n);
  buf[n] = '\0';
  if (inet_pton(AF_INET, buf, &in) != 1) {
    return false;
  }
  *addr = ntohl(in.s_addr);
  return true;
}

/* Parses an IPv6 address (n bytes at s, "[...]" allowed) into its canonical text in out. */
static bool parse_ipv6(const char *s, size_t n, char *out, size_t outlen) {
  char buf[INET6_ADDRSTRLEN];
  struct in6_addr in;
  if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
    s++;
    n -= 2;
  }
  if (n == 0 || n >= sizeof(buf)) {
    return false;
  }
  memcpy(buf, s, n);
  buf[n] = '\0';
  return inet_pton(AF_INET6, buf, &in) == 1 &&
         inet_ntop(AF_INET6, &in, out, (socklen_t)outlen) != NULL;
}

/* Parses one "a.b.c.d[/bits]" item into a network and a mask. */
static bool parse_block(const char *s, size_t n, uint32_t *net, uint32_t *mask) {
  const char *slash = memchr(s, '/', n);
  long bits = 32;
  if (slash != NULL) {
    size_t blen = n - (size_t)(slash - s) - 1;
    if (blen == 0 || blen > 2) {
      return false;
    }
    bits = 0;
    for (size_t i = 0; i < blen; i++) {
      if (!isdigit((unsigned char)slash[1 + i])) {
        return false;
      }
      bits = bits * 10 + (slash[1 + i] - '0');
    }
    if (bits > 32) {
      return false;
    }
    n = (size_t)(slash - s);
  }
  *mask = bits == 0 ? 0 : 0xFFFFFFFFu << (32 - bits);
  if (!parse_ipv4(s, n, net)) {
    return false;
  }
  *net &= *mask;
  return true;
}

/* Trims spaces around the n bytes at *s. */
static void trim(const char **s, size_t *n) {
  while (*n > 0 && isspace((unsigned char)**s)) {
    (*s)++;
    (*n)--;
  }
  while (*n > 0 && isspace((unsigned char)(*s)[*n - 1])) {
    (*n)--;
  }
}

char *h_forwarded_config_check(const char *trusted) {
  const char *p = trusted != NULL && trusted[0] != '\0' ? trusted : NULL;
  while (p != NULL) { /* every item, empty ones too ("a,," is an error) */
    const char *comma = strchr(p, ',');
    size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
    const char *item = p;
    trim(&item, &n);
    uint32_t net, mask;
    if (!parse_block(item, n, &net, &mask)) {
      return h_sprintf("HERALD_TRUSTED_PROXIES: '%.*s' is not an IPv4 address or a.b.c.d/bits",
                       (int)n, item);
    }
    p = comma != NULL ? comma + 1 : NULL;
  }
  return NULL;
}

/* True when the n bytes at ip are an IPv4 address inside one of the trusted blocks. */
static bool trusted_n(const char *trusted, const char *ip, size_t n) {
  uint32_t addr;
  if (trusted == NULL || trusted[0] == '\0' || !parse_ipv4(ip, n, &addr)) {
    return false;
  }
  const char *p = trusted;
  while (p != NULL && *p != '\0') {
    const char *comma = strchr(p, ',');
    size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
    const char *item = p;
    trim(&item, &len);
    uint32_t net, mask;
    if (parse_block(item, len, &net, &mask) && (addr & mask) == net) {
      return true;
    }
    p = comma != NULL ? comma + 1 : NULL;
  }
  return false;
}

bool h_forwarded_trusted(const char *trusted, const char *ip) {
  return ip != NULL && trusted_n(trusted, ip, strlen(ip));
}

void h_forwarded_client(const char *trusted, const char *peer, const char *xff, char *out,
                        size_t outlen) {
  h_copy(out, outlen, peer != NULL ? peer : "");
  if (xff == NULL || !h_forwarded_trusted(trusted, peer)) {
    return;
  }
  /* Walk right to left: each hop was added by the proxy to its right. */
  size_t end = strlen(xff);
  while (end > 0) {
    size_t start = end;
    while (start > 0 && xff[start - 1] != ',') {
      start--;
    }
    const char *item = xff + start;
    size_t n = end - start;
    trim(&item, &n);
    uint32_t addr;
    if (!parse_ipv4(item, n, &addr)) {
      char v6[INET6_ADDRSTRLEN];
      if (parse_ipv6(item, n, v6, sizeof(v6))) { /* never a trusted proxy: the client */
        h_copy(out, outlen, v6);
      }
      return; /* else malformed: keep the last address we could trust */
    }
    snprintf(out, outlen, "%.*s", (int)n, item);
    if (!trusted_n(trusted, item, n)) {
      return;
    }
    end = start > 0 ? start - 1 : 0;
  }
}

void h_forwarded_bucket(const char *ip, char *out, size_t outlen) {
  struct in6_addr in;
  h_copy(out, outlen, ip != NULL ? ip : "");
  if (ip == NULL || strchr(ip, ':') == NULL || inet_pton(AF_INET6, ip, &in) != 1) {
    return;
  }
  char text[INET6_ADDRSTRLEN];
  if (IN6_IS_ADDR_V4MAPPED(&in)) {
    inet_ntop(AF_INET, &in.s6_addr[12], text, sizeof(text));
    h_copy(out, outlen, text);
    return;
  }
  memset(&in.s6_addr[8], 0, 8);
  inet_ntop(AF_INET6, &in, text, sizeof(text));
  snprintf(out, outlen, "%s/64", text);
}
