/* plan_repo.h - SQL of subscription plans (billing_plans). Every json_t **
 * out-parameter is a new reference for the caller. */
#ifndef HERALD_PLAN_REPO_H
#define HERALD_PLAN_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "billing/billing_provider.h"
#include "core/page.h"
#include "core/result.h"

/* The columns the rules need. */
struct h_plan {
  char id[37];
  char currency[4];
  char price[H_PROVIDER_ID_LEN];
  char product[H_PROVIDER_ID_LEN];
  int trial_days;
  bool active;
};

/* A new plan (strings borrowed) with its provider product and price. */
struct h_plan_new {
  const char *id;
  const char *name;
  const char *currency;
  const char *interval;
  const char *product;
  const char *price;
  long long amount;
  int interval_count;
  int trial_days;
};

h_result h_plan_repo_insert(PGconn *conn, const struct h_plan_new *in);
/* Locks plan id FOR UPDATE (lock) or reads it; H_ERR_NOT_FOUND if none. */
h_result h_plan_repo_get(PGconn *conn, const char *id, bool lock, struct h_plan *out);
/* The plan whose provider price is price into plan_id; H_ERR_NOT_FOUND if none. */
h_result h_plan_repo_by_price(PGconn *conn, const char *price, char plan_id[37]);
/* Sets what is not NULL / negative: name, trial_days, active (0/1). */
h_result h_plan_repo_update(PGconn *conn, const char *id, const char *name, int trial_days,
                            int active);
h_result h_plan_repo_get_json(PGconn *conn, const char *id, json_t **out);
/* Newest first; active_only: without archived plans. */
h_result h_plan_repo_list(PGconn *conn, const struct h_page *page, bool active_only,
                          json_t **data, bool *has_more);

#endif
