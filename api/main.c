/* main.c - herald-api: serve the REST API, migrate the database, create the admin. */
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/config.h"
#include "crypto/crypto.h"
#include "store/db.h"
#include "core/log.h"
#include "store/migrate.h"
#include "http/server.h"
#include "users/user_service.h"
#include "core/version.h"

#define EXIT_USAGE 2
#define EXIT_CONFIG 78 /* EX_CONFIG */

static void usage(FILE *out) {
  fprintf(out,
          "Usage: herald-api <command>\n\n"
          "Commands:\n"
          "  serve         run the REST API (HERALD_HTTP_PORT, default 8080)\n"
          "  migrate       apply pending database migrations and exit\n"
          "  create-admin  create or reset the admin from HERALD_ADMIN_EMAIL and\n"
          "                HERALD_ADMIN_PASSWORD (revokes its sessions); an existing\n"
          "                non-admin account is refused unless --take-over is given\n"
          "  config        print every HERALD_* variable with its default (Markdown)\n"
          "  check-config  validate the HERALD_* environment and exit (0: valid,\n"
          "                78: not), connecting to nothing; also --check-config\n"
          "  version       print the version, git commit and build type; also --version\n"
          "  help          this text; also --help\n\n"
          "Configuration comes from HERALD_* environment variables; see README.md.\n"
          "Exit codes: 0 ok, 1 failure, 2 bad usage, 78 bad configuration.\n");
}

static struct h_db_options db_options(const struct h_config *cfg, const char *app) {
  struct h_db_options o = {
    .url = cfg->database_url,
    .pool_size = 1,
    .acquire_timeout_ms = cfg->db_acquire_timeout_ms,
    .connect_timeout_s = cfg->db_connect_timeout_s,
    .statement_timeout_ms = 0,
    .application_name = app,
  };
  return o;
}

static int cmd_migrate(const struct h_config *cfg) {
  struct h_db_options o = db_options(cfg, "herald-migrate");
  PGconn *conn = NULL;
  if (h_db_connect(&o, &conn) != H_OK) {
    fprintf(stderr, "herald-api migrate: cannot connect to PostgreSQL (HERALD_DATABASE_URL)\n");
    return EXIT_FAILURE;
  }
  int applied = 0;
  h_result r = h_migrate(conn, herald_migrations, &applied);
  PQfinish(conn);
  if (r != H_OK) {
    fprintf(stderr, "herald-api migrate: failed (%s)\n", h_result_name(r));
    return EXIT_FAILURE;
  }
  printf("migrations: %d applied, database up to date\n", applied);
  return EXIT_SUCCESS;
}

/* What create-admin did, for the operator. Static. */
static const char *admin_outcome(enum h_admin_outcome outcome) {
  switch (outcome) {
  case H_ADMIN_CREATED:
    return "created";
  case H_ADMIN_TAKEN_OVER:
    return "taken over (an existing account: password reset, every session revoked)";
  default:
    return "updated (password reset, every session revoked)";
  }
}

static int cmd_create_admin(const struct h_config *cfg, bool take_over) {
  if (cfg->admin_email[0] == '\0' || strchr(cfg->admin_email, '@') == NULL) {
    fprintf(stderr, "HERALD_ADMIN_EMAIL: set it to the admin's e-mail address\n");
    return EXIT_CONFIG;
  }
  if (strlen(cfg->admin_password) < 10) {
    fprintf(stderr, "HERALD_ADMIN_PASSWORD: must be at least 10 characters\n");
    return EXIT_CONFIG;
  }
  struct h_db_options o = db_options(cfg, "herald-create-admin");
  PGconn *conn = NULL;
  int rc = EXIT_FAILURE;
  char id[37];
  enum h_admin_outcome outcome = H_ADMIN_CREATED;
  h_result r = H_ERR_UNAVAILABLE;
  if (h_db_connect(&o, &conn) != H_OK) {
    fprintf(stderr, "herald-api create-admin: cannot connect to PostgreSQL\n");
  } else if ((r = h_user_upsert_admin(conn, cfg->admin_email, cfg->admin_password, take_over,
                                      id, &outcome)) == H_ERR_CONFLICT) {
    fprintf(stderr,
            "herald-api create-admin: %s belongs to an existing account that is not an admin;"
            " anyone may have registered it, so it is not promoted. Run\n"
            "  herald-api create-admin --take-over\n"
            "to reset its password, revoke every session it holds and make it the admin, or"
            " choose another HERALD_ADMIN_EMAIL.\n",
            cfg->admin_email);
  } else if (r != H_OK) {
    fprintf(stderr, "herald-api create-admin: failed (did you run migrate?)\n");
  } else {
    char masked[128];
    h_mask_email(cfg->admin_email, masked, sizeof(masked));
    h_log(H_LOG_WARNING, "security", NULL, "admin %s %s (id %s)", masked,
          admin_outcome(outcome), id);
    printf("admin %s: %s (id %s)\n", admin_outcome(outcome), cfg->admin_email, id);
    rc = EXIT_SUCCESS;
  }
  PQfinish(conn);
  return rc;
}

/* Everything serve checks before it listens (the table, the JWT keys, Redis and Sentinel
 * addresses), without connecting anywhere. */
static int cmd_check_config(const struct h_config *cfg) {
  char *error = NULL;
  h_result r = h_app_check_config(cfg, &error);
  if (r != H_OK) {
    fprintf(stderr, "herald-api: configuration error: %s\n", error != NULL ? error : "?");
    free(error);
    return EXIT_CONFIG;
  }
  printf("herald-api: configuration ok\n");
  return EXIT_SUCCESS;
}

static int cmd_serve(const struct h_config *cfg) {
  h_server_block_signals();
  struct h_app app;
  char *error = NULL;
  if (h_app_init(&app, cfg, "herald-api", &error) != H_OK) {
    fprintf(stderr, "herald-api: configuration error: %s\n", error);
    free(error);
    return EXIT_CONFIG;
  }
  struct h_server *server = NULL;
  h_result r = h_server_start(&app, &server);
  if (r != H_OK) {
    h_app_free(&app);
    return r == H_ERR_INVALID ? EXIT_CONFIG : EXIT_FAILURE;
  }
  int sig = h_server_wait_for_signal();
  h_log(H_LOG_INFO, "event", NULL, "signal %d: draining and stopping", sig);
  h_server_stop(server);
  h_app_free(&app);
  h_log(H_LOG_INFO, "event", NULL, "stopped");
  return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
  h_alloc_install();
  /* Blocks of 256 KiB and more (scrypt's 16 MiB per password hash, big bodies) come from
   * mmap and go back to the system when freed; glibc's default threshold grows past them
   * after the first free, and each thread's arena then keeps 16 MiB for good
   * (bench/memory.sh: peak RSS 73 MB with the default, 24 MB with this). A build linked with
   * jemalloc (HERALD_JEMALLOC) does not allocate from glibc's malloc: this then changes
   * nothing, and jemalloc returns such blocks by itself. */
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  const char *cmd = argc > 1 ? argv[1] : "help";
  bool take_over = argc == 3 && strcmp(cmd, "create-admin") == 0 &&
                   strcmp(argv[2], "--take-over") == 0;
  if (argc > 2 && !take_over) {
    fprintf(stderr, "herald-api: unexpected argument '%s'\n\n", argv[2]);
    usage(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return EXIT_SUCCESS;
  }
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    h_version_print(stdout, "herald-api");
    return EXIT_SUCCESS;
  }
  if (strcmp(cmd, "config") == 0) {
    h_config_print_markdown(stdout);
    return EXIT_SUCCESS;
  }
  if (strcmp(cmd, "--check-config") == 0) {
    cmd = "check-config";
  }
  if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 &&
      strcmp(cmd, "create-admin") != 0 && strcmp(cmd, "check-config") != 0) {
    fprintf(stderr, "herald-api: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
  }

  struct h_config cfg;
  char *error = NULL;
  if (h_config_load(&cfg, &error) != H_OK) {
    fprintf(stderr, "herald-api: configuration error: %s\n", error);
    free(error);
    return EXIT_CONFIG;
  }
  h_log_init("herald-api", cfg.log_level);
  int rc;
  if (strcmp(cmd, "serve") == 0) {
    h_log(H_LOG_INFO, "event", NULL, "herald-api %s (commit %s, %s build) starting",
          h_version_number, h_version_commit, h_version_build_type);
    rc = cmd_serve(&cfg);
  } else if (strcmp(cmd, "check-config") == 0) {
    rc = cmd_check_config(&cfg);
  } else if (strcmp(cmd, "migrate") == 0) {
    rc = cmd_migrate(&cfg);
  } else {
    rc = cmd_create_admin(&cfg, take_over);
  }
  h_log_close();
  h_config_free(&cfg);
  return rc;
}
