/* netaddr.h - where outgoing webhook requests may go (server-side request forgery
 * defence): the URL check (scheme, host, port), the address check (no loopback,
 * private, link-local, CGNAT, metadata, ULA, multicast, reserved, documentation or
 * IPv4-mapped/translated address unless an operator's allow-list names it) and a
 * resolver that checks every address a host name resolves to.
 *
 * The API checks an endpoint when it is registered; herald-webhook checks it again at
 * every delivery and connects only to the address it checked (DNS rebinding). */
#ifndef HERALD_NETADDR_H
#define HERALD_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/result.h"

/* A list of CIDR prefixes ("127.0.0.1/32,::1/128"). */
struct h_net_prefix {
  int family;              /* AF_INET or AF_INET6 */
  unsigned char addr[16];
  int bits;
};
struct h_net_allow {
  struct h_net_prefix *p;  /* owned */
  size_t n;
};

/* Parses a comma-separated CIDR list (spaces allowed, "" gives an empty list; an
 * address without /bits is a single host). H_ERR_INVALID with *error (caller frees)
 * naming the bad item. Free out with h_net_allow_free. */
h_result h_net_allow_parse(const char *list, struct h_net_allow *out, char **error);
void h_net_allow_free(struct h_net_allow *a);

/* Why sa may not be reached ("loopback", "private", "link_local", "cgnat", ...; static),
 * or NULL when it may: a public unicast address, or one inside allow (may be NULL). */
const char *h_net_refusal(const struct sockaddr *sa, const struct h_net_allow *allow);

/* The same for a literal address ("10.0.0.1", "::1"); "not_an_address" when ip is not
 * one. */
const char *h_net_literal_refusal(const char *ip, const struct h_net_allow *allow);

/* The parts of a webhook URL that matter for the checks. */
struct h_net_target {
  char host[256];          /* without brackets for IPv6 literals */
  int port;
  bool https;
  bool literal;            /* host is an IP address */
};

/* Checks url: absolute http(s) (http only when allow_http), a host, no user
 * information, no fragment, at most 2048 bytes. H_ERR_INVALID with *reason (static:
 * "invalid_url", "https_required", "credentials_in_url") otherwise. */
h_result h_net_parse_url(const char *url, bool allow_http, struct h_net_target *out,
                         const char **reason);

/* Resolves t->host (getaddrinfo; literals need no DNS) and checks every address:
 * H_OK with the first address in addr (text form, no brackets) when all may be
 * reached; H_ERR_FORBIDDEN with *reason (static) when one may not; H_ERR_UNAVAILABLE
 * with *reason "unresolvable" when the name does not resolve. */
h_result h_net_resolve_checked(const struct h_net_target *t, const struct h_net_allow *allow,
                               char addr[64], const char **reason);

#endif
