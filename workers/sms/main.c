/* main.c - herald-sms: drains herald:q:{sms} (see workers/runtime/worker.h). */
#include "sms.h"

int main(int argc, char **argv) {
  static const struct h_worker_def def = {
    .program = "herald-sms",
    .queue = H_QUEUE_SMS,
    .needs_devices = false,
    .create = h_sms_create,
  };
  return h_worker_main(&def, argc, argv);
}
