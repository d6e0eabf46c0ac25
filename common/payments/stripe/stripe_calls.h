/* stripe_calls.h - what the Stripe implementations of Herald's provider interfaces
 * share: the client configuration of a provider, calls, reading members of Stripe
 * objects and handing Stripe's error out in Herald's terms. */
#ifndef HERALD_STRIPE_CALLS_H
#define HERALD_STRIPE_CALLS_H

#include <jansson.h>
#include <stddef.h>

#include "payments/payment_provider.h"
#include "payments/stripe/stripe.h"

/* h_stripe_call with the configuration p carries (state: the h_config, borrowed);
 * out as for h_stripe_call. */
h_result h_stripe_provider_call(const struct h_provider *p, const char *method,
                                const char *path, const struct h_stripe_form *form,
                                const char *key, struct h_stripe_response *out);

/* Copies a string member of obj (or "") into out. obj is borrowed. */
void h_stripe_copy_str(const json_t *obj, const char *name, char *out, size_t outlen);
/* The id of a member that is either an id string or an expanded object, into out. */
void h_stripe_copy_ref(const json_t *obj, const char *name, char *out, size_t outlen);
/* Copies member name of obj as an upper-case currency code into out[4] ("" unless it is
 * three characters long). */
void h_stripe_copy_currency(const json_t *obj, const char *name, char out[4]);
/* Whether obj is a Stripe object of this type with a string id. */
bool h_stripe_is_object(const json_t *obj, const char *type);
/* Copies Stripe's error of resp into err (may be NULL). */
void h_stripe_give_error(const struct h_stripe_response *resp, struct h_provider_error *err);
/* "/v1/<collection>/<escaped id><suffix>" in a new string the caller frees. */
char *h_stripe_object_path(const char *collection, const char *id, const char *suffix);

#endif
