/* plan_service.h - subscription plans: an admin creates one (mirrored at the provider as
 * a product and a recurring price before it is stored), renames, changes its trial or
 * archives it (the product is renamed or deactivated there too); users list the active
 * ones. Amount, currency and interval never change: a new price is a new plan. */
#ifndef HERALD_PLAN_SERVICE_H
#define HERALD_PLAN_SERVICE_H

#include <jansson.h>
#include <stdbool.h>

#include "app/app.h"
#include "billing/billing_provider.h"
#include "audit/audit.h"
#include "core/errors.h"
#include "core/page.h"
#include "store/idempotency.h"

/* A plan as an admin asks for it (validated by the caller); strings borrowed. */
struct h_plan_input {
  const char *name;
  const char *currency;
  const char *interval;
  long long amount;
  int interval_count;
  int trial_days;
};

/* Creates the plan; *out (new reference) is the plan. idem: the request's claim (its
 * outcome is stored with the plan). Failures in err: H_ERR_UNAVAILABLE (provider not
 * configured or down), H_ERR_UNPROCESSABLE (the provider refused the plan). */
h_result h_plan_create(struct h_app *app, const struct h_actor *actor,
                       const struct h_plan_input *in, const struct h_idem *idem, json_t **out,
                       struct h_error *err);

/* Changes what is not NULL / negative: name, trial_days, active (0/1). */
h_result h_plan_update(struct h_app *app, const struct h_actor *actor, const char *id,
                       const char *name, int trial_days, int active, json_t **out,
                       struct h_error *err);

h_result h_plan_list(struct h_app *app, const struct h_page *page, bool active_only,
                     json_t **data, bool *has_more);

/* Provider failures as the API's errors: refused -> H_ERR_UNPROCESSABLE with the
 * provider's code and message, else unavailable (Retry-After). Returns the result. */
h_result h_billing_fail_provider(h_result r, const struct h_provider_error *perr,
                                 const char *param, struct h_error *err);

#endif
