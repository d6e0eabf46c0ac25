/* main.c - herald-webhook: drains herald:q:{webhook} (see workers/runtime/worker.h). */
#include "webhook.h"

int main(int argc, char **argv) {
  static const struct h_worker_def def = {
    .program = "herald-webhook",
    .queue = H_QUEUE_WEBHOOK,
    .needs_endpoint = true,
    .create = h_webhook_create,
  };
  return h_worker_main(&def, argc, argv);
}
