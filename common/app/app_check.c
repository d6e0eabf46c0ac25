/* app_check.c - `herald-api check-config`: everything serve validates before it listens,
 * without connecting to PostgreSQL or Redis (pools connect on first use). */
#include "app/app.h"

h_result h_app_check_config(const struct h_config *cfg, char **error) {
  struct h_app app;
  h_result r = h_app_init(&app, cfg, "herald-check-config", error);
  if (r == H_OK) {
    h_app_free(&app);
  }
  return r;
}
