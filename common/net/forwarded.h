/* forwarded.h - the client address behind trusted proxies (X-Forwarded-For).
 *
 * Behind a load balancer every connection comes from the proxy. When the peer is one of
 * HERALD_TRUSTED_PROXIES (comma-separated IPv4 addresses or CIDR blocks), the client is the
 * right-most address of X-Forwarded-For that is not itself a trusted proxy (the left-most
 * when all are trusted); entries a client could have forged further left are ignored. A
 * malformed entry stops the walk at the address to its right. Without trusted proxies, or
 * from any other peer, the header is ignored. Proxies are IPv4 (like the listener); the client
 * named by the header may be IPv4 or IPv6 (an IPv6 entry is never a proxy). */
#ifndef HERALD_FORWARDED_H
#define HERALD_FORWARDED_H

#include <stdbool.h>
#include <stddef.h>

/* Checks HERALD_TRUSTED_PROXIES: NULL when valid (empty is valid), else a message naming the
 * variable (caller frees). */
char *h_forwarded_config_check(const char *trusted);

/* True when ip (dotted IPv4) is in the trusted list. Pure. */
bool h_forwarded_trusted(const char *trusted, const char *ip);

/* Writes the client address into out (outlen bytes): peer, or the address X-Forwarded-For
 * names when peer is trusted. xff may be NULL. Pure; all pointers borrowed. */
void h_forwarded_client(const char *trusted, const char *peer, const char *xff, char *out,
                        size_t outlen);

/* Writes into out the counter a client address is limited under: an IPv4 address itself, an
 * IPv6 address its /64 ("2001:db8:1:2::/64": one subscriber's network), an IPv4-mapped IPv6
 * address its IPv4 address. Anything else is copied. Pure. */
void h_forwarded_bucket(const char *ip, char *out, size_t outlen);

#endif
