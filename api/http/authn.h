/* authn.h - who is calling: a JWT access token or an API key, both sent as
 * "Authorization: Bearer <credential>". Runs before a route's handler according
 * to the route's requirement (routes.h: enum h_auth). */
#ifndef HERALD_AUTHN_H
#define HERALD_AUTHN_H

#include <stdbool.h>

#include "http/http.h"
#include "http/routes.h"

/* Fills rq's caller or replies 401/403; returns false when it replied. */
bool h_authenticate(struct h_req *rq, enum h_auth need);

#endif
