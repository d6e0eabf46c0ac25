/* summary_repo.c - one aggregate statement over payments, refunds and disputes. */
#include "payments/reports/summary_repo.h"

#include "store/db.h"

/* The period, then payments by currency and status, succeeded refunds by currency, and
 * disputes opened in the period by currency. Money collected is a succeeded payment or a
 * disputed one (it succeeded first); the disputed amount is what a dispute still withholds
 * or took back (open or lost, not won), so net = collected - refunded - disputed - fees. */
#define SUMMARY_SQL                                                                          \
  "WITH w AS (SELECT COALESCE($1::timestamptz, COALESCE($2::timestamptz, now())"             \
  "   - interval '30 days') AS f, COALESCE($2::timestamptz, now()) AS t),"                   \
  " p AS (SELECT currency, status, count(*) AS n, sum(amount) AS v, sum(fee_provider) AS fp," \
  "   sum(fee_platform) AS fpl FROM payments, w WHERE created_at >= w.f AND created_at < w.t" \
  "   GROUP BY currency, status),"                                                           \
  " r AS (SELECT currency, count(*) AS n, sum(amount) AS v FROM refunds, w"                  \
  "   WHERE status = 'succeeded' AND created_at >= w.f AND created_at < w.t"                 \
  "   GROUP BY currency),"                                                                   \
  " d AS (SELECT currency, count(*) AS n, COALESCE(sum(amount) FILTER (WHERE status NOT IN"  \
  "   ('won', 'warning_closed')), 0) AS v FROM disputes, w"                                  \
  "   WHERE created_at >= w.f AND created_at < w.t GROUP BY currency),"                      \
  " c AS (SELECT currency FROM p UNION SELECT currency FROM r UNION SELECT currency FROM d),"\
  " k AS (SELECT currency, sum(n) AS n, sum(v) AS v, sum(fp) AS fp, sum(fpl) AS fpl"     \
  "   FROM p WHERE status IN ('succeeded', 'disputed') GROUP BY currency),"                 \
  " s AS (SELECT c.currency,"                                                                \
  "   COALESCE((SELECT n FROM k WHERE k.currency = c.currency), 0) AS sn,"                   \
  "   COALESCE((SELECT v FROM k WHERE k.currency = c.currency), 0) AS sv,"                   \
  "   COALESCE((SELECT fp FROM k WHERE k.currency = c.currency), 0) AS fp,"                  \
  "   COALESCE((SELECT fpl FROM k WHERE k.currency = c.currency), 0) AS fpl,"                \
  "   COALESCE((SELECT n FROM r WHERE r.currency = c.currency), 0) AS rn,"                   \
  "   COALESCE((SELECT v FROM r WHERE r.currency = c.currency), 0) AS rv,"                   \
  "   COALESCE((SELECT sum(n) FROM d WHERE d.currency = c.currency), 0) AS dn,"              \
  "   COALESCE((SELECT sum(v) FROM d WHERE d.currency = c.currency), 0) AS dv FROM c)"       \
  " SELECT w.f < w.t AND (NOT $3::bool OR w.t - w.f <= interval '366 days') AS valid,"      \
  "   " H_SQL_TS("w.f") " AS \"from\", " H_SQL_TS("w.t") " AS \"to\","                     \
  "   COALESCE((SELECT jsonb_agg(jsonb_build_object('currency', currency, 'status', status,"  \
  "     'count', n, 'volume', v) ORDER BY currency, status) FROM p), '[]') AS by_status,"   \
  "   COALESCE((SELECT jsonb_agg(jsonb_build_object('currency', currency,"                  \
  "     'succeeded_count', sn, 'volume', sv, 'refund_count', rn, 'refunded', rv,"            \
  "     'dispute_count', dn, 'disputed', dv, 'fees', jsonb_build_object('provider', fp,"      \
  "     'platform', fpl), 'net', sv - rv - dv - fp - fpl) ORDER BY currency) FROM s), '[]')"  \
  "     AS by_currency FROM w"

h_result h_summary_repo_period(PGconn *conn, const char *from, const char *to, bool bounded,
                               json_t **out) {
  const char *params[] = {from, to, bounded ? "t" : "f"};
  json_t *row = NULL;
  h_result r = h_db_one(conn, SUMMARY_SQL, 3, params, &row);
  if (r == H_OK && !json_is_true(json_object_get(row, "valid"))) {
    r = H_ERR_INVALID;
  }
  if (r == H_OK) {
    json_object_del(row, "valid");
    *out = row;
    return r;
  }
  json_decref(row);
  *out = NULL;
  return r;
}
