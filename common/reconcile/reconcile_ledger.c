/* reconcile_ledger.c - our succeeded payments and refunds of a period against the
 * provider's lists of the same period. */
#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "core/log.h"
#include "notifications/outbox.h"
#include "payments/payment_provider.h"
#include "reconcile/reconcile.h"
#include "reconcile/reconcile_repo.h"

static const char *const kind_names[5] = {"missing_locally", "missing_at_provider",
                                          "amount_mismatch", "status_mismatch",
                                          "currency_mismatch"};

const char *h_ledger_kind_name(int kind) {
  return kind >= 0 && kind < 5 ? kind_names[kind] : "unknown";
}

/* How far around the period both sides are read, to match objects across its boundaries. */
#define RECONCILE_MARGIN_S 3600

static void add_item(json_t *items, int kind, const char *type, const char *id, json_t *local,
                     json_t *prov, struct h_ledger_totals *t) {
  json_array_append_new(items, json_pack("{sssssssOsO}", "kind", kind_names[kind],
                                         "object_type", type, "object_id", id, "local",
                                         local != NULL ? local : json_null(), "provider",
                                         prov != NULL ? prov : json_null()));
  t->by_kind[kind]++;
  t->found++;
}

static bool succeeded(const json_t *o) {
  const char *s = json_string_value(json_object_get(o, "status"));
  return s != NULL && strcmp(s, "succeeded") == 0;
}

/* Compares one pair present on both sides. */
static void compare(json_t *items, const char *type, const char *key, json_t *l, json_t *p,
                    struct h_ledger_totals *t) {
  if (!succeeded(l) && !succeeded(p)) {
    return; /* neither side counts it */
  }
  if (succeeded(l) != succeeded(p)) {
    add_item(items, 3, type, key, l, p, t);
  }
  if (strcmp(json_string_value(json_object_get(l, "currency")),
             json_string_value(json_object_get(p, "currency"))) != 0) {
    add_item(items, 4, type, key, l, p, t);
  } else if (json_integer_value(json_object_get(l, "amount")) !=
             json_integer_value(json_object_get(p, "amount"))) {
    add_item(items, 2, type, key, l, p, t);
  }
}

/* The period under reconciliation, [since, until). */
struct period {
  time_t since, until;
};

/* True when o (either side; "created" in unix seconds) was created inside the period. */
static bool in_period(const json_t *o, const struct period *pd) {
  json_int_t created = json_integer_value(json_object_get(o, "created"));
  return o != NULL && created >= pd->since && created < pd->until;
}

/* One kind of object (payments or refunds) of both sides; sign: +1 or -1 for totals. Both
 * sides were read with a margin around the period, so an object whose two sides fall either
 * side of a boundary is matched, not reported missing; only objects created inside the
 * period are counted or reported. */
static void compare_side(json_t *items, const char *type, json_t *local, json_t *prov, int sign,
                         const struct period *pd, struct h_ledger_totals *t) {
  const char *key;
  json_t *l;
  json_object_foreach(local, key, l) {
    json_t *p = json_object_get(prov, key);
    bool mine = in_period(l, pd);
    if (mine && succeeded(l)) {
      t->local_count++;
      t->local_amount += sign * json_integer_value(json_object_get(l, "amount"));
    }
    if (p == NULL) {
      if (mine && succeeded(l)) {
        add_item(items, 1, type, key, l, NULL, t);
      }
    } else if (mine || in_period(p, pd)) {
      compare(items, type, key, l, p, t);
    }
  }
  json_object_foreach(prov, key, l) {
    if (in_period(l, pd) && succeeded(l)) {
      t->provider_count++;
      t->provider_amount += sign * json_integer_value(json_object_get(l, "amount"));
      if (json_object_get(local, key) == NULL) {
        add_item(items, 0, type, key, NULL, l, t);
      }
    }
  }
}

/* Both sides of the period and their differences into items (used by reconcile_run.c). */
h_result h_reconcile_collect(struct h_app *app, time_t since, time_t until, json_t *items,
                             struct h_ledger_totals *t);

/* One provider's side and Herald's side of the period, and their differences into items. */
static h_result collect_provider(struct h_app *app, const struct h_provider *prov, time_t since,
                                 time_t until, json_t *items, struct h_ledger_totals *t) {
  /* Both sides are read with a margin: clocks and the moment each side stamps an object
   * differ, so one object can sit either side of the period's boundary. */
  const time_t margin = RECONCILE_MARGIN_S;
  const struct period pd = {since, until};
  json_t *pis = json_object(), *refunds = json_object(), *local = NULL;
  h_result r = prov->ops->payment_list(prov, since - margin, until + margin, pis);
  if (r == H_OK) {
    r = prov->ops->refund_list(prov, since - margin, until + margin, refunds);
  }
  PGconn *conn = NULL;
  if (r == H_OK) {
    r = h_db_acquire(app->db, &conn);
  }
  if (r == H_OK) {
    r = h_reconcile_repo_local(conn, prov->ops->name, since - margin, until + margin, &local);
    h_db_release(app->db, conn);
  }
  if (r == H_OK) {
    compare_side(items, "payment", json_object_get(local, "payments"), pis, 1, &pd, t);
    compare_side(items, "refund", json_object_get(local, "refunds"), refunds, -1, &pd, t);
  }
  json_decref(pis);
  json_decref(refunds);
  json_decref(local);
  return r;
}

/* Both sides of the period and their differences into items, for every configured provider
 * that lists its objects (M-Pesa lists nothing: its payments are settled one by one by the
 * status queries of sync). H_ERR_UNAVAILABLE when none is configured. */
h_result h_reconcile_collect(struct h_app *app, time_t since, time_t until, json_t *items,
                             struct h_ledger_totals *t) {
  static const char *const names[] = {"stripe", "mpesa", NULL};
  h_result r = H_ERR_UNAVAILABLE;
  for (size_t i = 0; names[i] != NULL; i++) {
    struct h_provider prov;
    if (h_provider_init_named(&prov, app->cfg, names[i], "reconcile") &&
        prov.ops->payment_list != NULL) {
      r = collect_provider(app, &prov, since, until, items, t);
      if (r != H_OK) {
        break;
      }
    }
  }
  return r;
}
