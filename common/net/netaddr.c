/* netaddr.c - the webhook URL and address checks (see netaddr.h). */
#include "net/netaddr.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* A refused range: prefix text, length, and the reason given. */
struct blocked {
  const char *prefix;
  int bits;
  const char *reason;
};

static const struct blocked blocked_ranges[] = {
  {"0.0.0.0", 8, "unspecified"},         {"10.0.0.0", 8, "private"},
  {"100.64.0.0", 10, "cgnat"},           {"127.0.0.0", 8, "loopback"},
  {"169.254.0.0", 16, "link_local"},     {"172.16.0.0", 12, "private"},
  {"192.0.0.0", 24, "reserved"},         {"192.0.2.0", 24, "documentation"},
  {"192.88.99.0", 24, "reserved"},       {"192.168.0.0", 16, "private"},
  {"198.18.0.0", 15, "reserved"},        {"198.51.100.0", 24, "documentation"},
  {"203.0.113.0", 24, "documentation"},  {"224.0.0.0", 4, "multicast"},
  {"240.0.0.0", 4, "reserved"},
  {"::", 128, "unspecified"},            {"::1", 128, "loopback"},
  {"::ffff:0:0", 96, "ipv4_mapped"},     {"::", 96, "ipv4_compatible"},
  {"64:ff9b::", 96, "nat64"},            {"64:ff9b:1::", 48, "nat64"},
  {"100::", 64, "discard"},              {"2001::", 32, "teredo"},
  {"2001:db8::", 32, "documentation"},   {"2002::", 16, "6to4"},
  {"fc00::", 7, "unique_local"},         {"fe80::", 10, "link_local"},
  {"fec0::", 10, "site_local"},          {"ff00::", 8, "multicast"},
};

/* Parses "addr" or "addr/bits" into p; false when malformed. */
static bool parse_prefix(const char *text, struct h_net_prefix *p) {
  char buf[64];
  size_t len = strlen(text);
  if (len == 0 || len >= sizeof(buf)) {
    return false;
  }
  memcpy(buf, text, len + 1);
  char *slash = strchr(buf, '/');
  if (slash != NULL) {
    *slash = '\0';
  }
  memset(p, 0, sizeof(*p));
  if (inet_pton(AF_INET, buf, p->addr) == 1) {
    p->family = AF_INET;
    p->bits = 32;
  } else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
    p->family = AF_INET6;
    p->bits = 128;
  } else {
    return false;
  }
  if (slash != NULL) {
    char *end = NULL;
    long bits = strtol(slash + 1, &end, 10);
    if (slash[1] == '\0' || *end != '\0' || bits < 0 || bits > p->bits) {
      return false;
    }
    p->bits = (int)bits;
  }
  return true;
}

/* True when the first bits of a and b (len bytes each) are equal. */
static bool same_prefix(const unsigned char *a, const unsigned char *b, int bits) {
  int whole = bits / 8, rest = bits % 8;
  if (memcmp(a, b, (size_t)whole) != 0) {
    return false;
  }
  if (rest == 0) {
    return true;
  }
  unsigned char mask = (unsigned char)(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

static bool in_prefix(int family, const unsigned char *addr, const struct h_net_prefix *p) {
  return p->family == family && same_prefix(addr, p->addr, p->bits);
}

h_result h_net_allow_parse(const char *list, struct h_net_allow *out, char **error) {
  memset(out, 0, sizeof(*out));
  *error = NULL;
  char *copy = h_strdup(list != NULL ? list : "");
  char *save = NULL;
  for (char *item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
    while (*item == ' ') {
      item++;
    }
    size_t len = strlen(item);
    while (len > 0 && item[len - 1] == ' ') {
      item[--len] = '\0';
    }
    if (len == 0) {
      continue;
    }
    struct h_net_prefix p;
    if (!parse_prefix(item, &p)) {
      *error = h_sprintf("'%.64s' is not an address or CIDR prefix", item);
      break;
    }
    out->p = h_realloc(out->p, (out->n + 1) * sizeof(*out->p));
    out->p[out->n++] = p;
  }
  free(copy);
  if (*error != NULL) {
    h_net_allow_free(out);
    return H_ERR_INVALID;
  }
  return H_OK;
}

void h_net_allow_free(struct h_net_allow *a) {
  free(a->p);
  a->p = NULL;
  a->n = 0;
}

/* The refusal of a raw address of family (4 or 16 bytes at addr). */
static const char *refusal_of(int family, const unsigned char *addr,
                              const struct h_net_allow *allow) {
  for (size_t i = 0; allow != NULL && i < allow->n; i++) {
    if (in_prefix(family, addr, &allow->p[i])) {
      return NULL;
    }
  }
  for (size_t i = 0; i < sizeof(blocked_ranges) / sizeof(blocked_ranges[0]); i++) {
    struct h_net_prefix p;
    parse_prefix(blocked_ranges[i].prefix, &p);
    p.bits = blocked_ranges[i].bits;
    if (in_prefix(family, addr, &p)) {
      return blocked_ranges[i].reason;
    }
  }
  return NULL;
}

const char *h_net_refusal(const struct sockaddr *sa, const struct h_net_allow *allow) {
  if (sa == NULL) {
    return "not_an_address";
  }
  if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
    return refusal_of(AF_INET, (const unsigned char *)&in->sin_addr, allow);
  }
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
    return refusal_of(AF_INET6, (const unsigned char *)&in6->sin6_addr, allow);
  }
  return "unsupported_family";
}

const char *h_net_literal_refusal(const char *ip, const struct h_net_allow *allow) {
  unsigned char addr[16];
  if (ip != NULL && inet_pton(AF_INET, ip, addr) == 1) {
    return refusal_of(AF_INET, addr, allow);
  }
  if (ip != NULL && inet_pton(AF_INET6, ip, addr) == 1) {
    return refusal_of(AF_INET6, addr, allow);
  }
  return "not_an_address";
}

/* Copies part of u into out (at most outlen-1 bytes); false when missing or too long. */
static bool url_part(CURLU *u, CURLUPart what, char *out, size_t outlen) {
  char *v = NULL;
  bool ok = curl_url_get(u, what, &v, 0) == CURLUE_OK && v != NULL && strlen(v) < outlen;
  if (ok) {
    snprintf(out, outlen, "%s", v);
  }
  curl_free(v);
  return ok;
}

/* True when u has part what. */
static bool has_part(CURLU *u, CURLUPart what) {
  char *v = NULL;
  bool has = curl_url_get(u, what, &v, 0) == CURLUE_OK && v != NULL;
  curl_free(v);
  return has;
}

h_result h_net_parse_url(const char *url, bool allow_http, struct h_net_target *out,
                         const char **reason) {
  memset(out, 0, sizeof(*out));
  *reason = "invalid_url";
  if (url == NULL || strlen(url) > 2048 || strpbrk(url, " \t\r\n") != NULL) {
    return H_ERR_INVALID;
  }
  CURLU *u = curl_url();
  char scheme[8] = "", port[8] = "";
  h_result r = H_ERR_INVALID;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      !url_part(u, CURLUPART_SCHEME, scheme, sizeof(scheme)) ||
      !url_part(u, CURLUPART_HOST, out->host, sizeof(out->host)) || out->host[0] == '\0') {
    goto out;
  }
  if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD)) {
    *reason = "credentials_in_url";
    goto out;
  }
  if (has_part(u, CURLUPART_FRAGMENT) || has_part(u, CURLUPART_ZONEID)) {
    goto out; /* a zone id names a local interface */
  }
  out->https = strcmp(scheme, "https") == 0;
  if (!out->https && strcmp(scheme, "http") != 0) {
    goto out;
  }
  if (!out->https && !allow_http) {
    *reason = "https_required";
    goto out;
  }
  size_t hl = strlen(out->host);
  if (out->host[0] == '[' && hl > 2 && out->host[hl - 1] == ']') {
    memmove(out->host, out->host + 1, hl - 2);
    out->host[hl - 2] = '\0';
  }
  unsigned char tmp[16];
  out->literal = inet_pton(AF_INET, out->host, tmp) == 1 ||
                 inet_pton(AF_INET6, out->host, tmp) == 1;
  out->port = out->https ? 443 : 80;
  if (url_part(u, CURLUPART_PORT, port, sizeof(port))) {
    out->port = atoi(port);
  }
  if (out->port <= 0 || out->port > 65535) {
    goto out;
  }
  *reason = NULL;
  r = H_OK;
out:
  curl_url_cleanup(u);
  return r;
}

h_result h_net_resolve_checked(const struct h_net_target *t, const struct h_net_allow *allow,
                               char addr[64], const char **reason) {
  addr[0] = '\0';
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                           .ai_flags = t->literal ? AI_NUMERICHOST : 0};
  struct addrinfo *res = NULL;
  if (getaddrinfo(t->host, NULL, &hints, &res) != 0 || res == NULL) {
    *reason = "unresolvable";
    return H_ERR_UNAVAILABLE;
  }
  *reason = NULL;
  for (struct addrinfo *ai = res; ai != NULL && *reason == NULL; ai = ai->ai_next) {
    *reason = h_net_refusal(ai->ai_addr, allow);
  }
  if (*reason == NULL) {
    const void *raw = res->ai_family == AF_INET
                          ? (const void *)&((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr
                          : (const void *)&((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr;
    inet_ntop(res->ai_family, raw, addr, 64);
  }
  freeaddrinfo(res);
  return *reason == NULL ? H_OK : H_ERR_FORBIDDEN;
}
