/* main.c - herald-push: drains herald:q:{push} (see workers/runtime/worker.h). */
#include "push.h"

int main(int argc, char **argv) {
  static const struct h_worker_def def = {
    .program = "herald-push",
    .queue = H_QUEUE_PUSH,
    .needs_devices = true,
    .create = h_push_create,
  };
  return h_worker_main(&def, argc, argv);
}
