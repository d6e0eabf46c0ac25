/* http_jobs.c - the providers that send each job as one HTTP request (struct
 * h_http_job_ops in worker.h): a window of jobs prepared, sent together on the thread's
 * multi handle, and each answer read. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "net/http_client.h"
#include "worker.h"

void h_send_http_jobs(void *shared, struct h_http_multi *multi, const struct h_http_job_ops *ops,
                      const struct h_job *const *jobs, struct h_send_result *const *out,
                      size_t n) {
  struct h_http_job *x = h_calloc(n, sizeof(*x));
  struct h_http_request *all = h_calloc(n, sizeof(*all));   /* x[k].rq */
  struct h_http_request *rq = h_calloc(n, sizeof(*rq));     /* the ones to send */
  size_t *which = h_calloc(n, sizeof(*which));
  size_t m = 0;
  for (size_t k = 0; k < n; k++) {
    x[k].rq = &all[k];
    all[k].headers = x[k].headers;
    if (ops->prepare(shared, jobs[k], &x[k], out[k])) {
      rq[m] = all[k];
      which[m++] = k;
    }
  }
  struct h_http_response *resp = h_calloc(m > 0 ? m : 1, sizeof(*resp));
  h_result *results = h_calloc(m > 0 ? m : 1, sizeof(*results));
  h_http_send_all(multi, rq, m, resp, results);
  for (size_t w = 0; w < m; w++) {
    struct h_send_result *o = out[which[w]];
    if (results[w] != H_OK) {
      o->status = H_SEND_RETRY; /* timeout, refused, reset: whether it was sent is unknown */
      h_send_errorf(o, "%s", resp[w].error);
    } else {
      ops->answer(shared, jobs[which[w]], &resp[w], o);
    }
    o->duration_ms = (int)(resp[w].elapsed_ms + 0.5);
    h_http_response_free(&resp[w]);
  }
  for (size_t k = 0; k < n; k++) {
    for (size_t i = 0; i < sizeof(x[k].owned) / sizeof(x[k].owned[0]); i++) {
      free(x[k].owned[i]);
    }
  }
  free(results);
  free(resp);
  free(which);
  free(rq);
  free(all);
  free(x);
}
