/* payment_method_repo.h - SQL for the payment methods saved by users. json_t **
 * out-parameters are new references for the caller. */
#ifndef HERALD_PAYMENT_METHOD_REPO_H
#define HERALD_PAYMENT_METHOD_REPO_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "payments/payment_provider.h"
#include "core/result.h"
#include "core/fields.h"
#include "core/page.h"

struct h_saved_pm {
  char id[37];
  char provider_id[H_PROVIDER_ID_LEN];
  bool is_default;
};

/* Saves a method attached at the provider under the given (new) id; it becomes the
 * default when the user has none. H_ERR_CONFLICT when that provider method is saved
 * already. */
h_result h_payment_method_repo_insert(PGconn *conn, const char *id, const char *user_id,
                                      const struct h_provider_method *pm, json_t **out);

/* A user's saved method (H_ERR_NOT_FOUND when not theirs). */
h_result h_payment_method_repo_get(PGconn *conn, const char *id, const char *user_id,
                                   struct h_saved_pm *out);
/* The user's default method (H_ERR_NOT_FOUND when none). */
h_result h_payment_method_repo_default(PGconn *conn, const char *user_id, struct h_saved_pm *out);

/* Deletes a user's method; when it was the default, the newest remaining becomes it. */
h_result h_payment_method_repo_delete(PGconn *conn, const char *id, const char *user_id);

/* Makes a user's method the default (the previous default stops being it). */
h_result h_payment_method_repo_set_default(PGconn *conn, const char *id, const char *user_id,
                                           json_t **out);

h_result h_payment_method_repo_get_json(PGconn *conn, const char *id, const char *user_id,
                                        json_t **out);
h_result h_payment_method_repo_list(PGconn *conn, const char *user_id, const struct h_page *page,
                                    json_t **data, bool *has_more);

#endif
