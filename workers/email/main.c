/* main.c - herald-email: drains herald:q:{email} (see workers/runtime/worker.h). */
#include "email.h"

int main(int argc, char **argv) {
  static const struct h_worker_def def = {
    .program = "herald-email",
    .queue = H_QUEUE_EMAIL,
    .needs_devices = false,
    .create = h_email_create,
  };
  return h_worker_main(&def, argc, argv);
}
