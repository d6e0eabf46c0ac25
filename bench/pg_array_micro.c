/* pg_array_micro.c - microbenchmark of the group commit's array parameters (store/pg_array.h):
 * the columns of a batch of sends (notification, three deliveries and an audit row each, the
 * bench POST's values), built as text literals and in the binary format, and sent to the
 * server in a statement that only reads their sizes, so that what is measured is building the
 * arrays (client CPU) and the server's reading of them (array_in and the element types' input
 * functions, or array_recv: the backend's CPU from /proc). Built and run by
 * bench/pg_array_micro.sh. Usage: pg_array_micro DATABASE_URL [calls] [sends per batch]. */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "store/db.h"
#include "store/pg_array.h"

enum { UUID = H_PG_OID_UUID, TEXT = H_PG_OID_TEXT, JSONB = H_PG_OID_JSONB,
       BOOL = H_PG_OID_BOOL, INT4 = H_PG_OID_INT4, TS = 0 };

/* A column: its element type (TS: timestamptz, always a text literal), SQL type, how many
 * values per send, and the value (NULL: a uuid of its own per value; null: SQL NULLs). */
struct column {
  unsigned oid;
  const char *sql_type;
  int per_send;
  const char *value;
  bool null;
};

static const struct column columns[] = {
  /* notifications */
  {UUID, "uuid", 1, NULL, false}, {UUID, "uuid", 1, NULL, false},
  {TEXT, "text", 1, "bench", false}, {TEXT, "text", 1, "normal", false},
  {TEXT, "text", 1, NULL, true}, {JSONB, "jsonb", 1, "{}", false},
  {TEXT, "text", 1, "Bench", false}, {TEXT, "text", 1, "A load-test notification", false},
  {TEXT, "text", 1, NULL, true}, {TEXT, "text", 1, NULL, true}, {TS, "timestamptz", 1, NULL, true},
  {JSONB, "jsonb", 1,
   "{\"email\":{\"subject\":\"Bench\",\"text\":\"A load-test notification\"},"
   "\"sms\":{\"text\":\"Bench: A load-test notification\"}}", false},
  {TEXT, "text", 1, "en", false}, {BOOL, "bool", 1, "t", false}, {UUID, "uuid", 1, NULL, true},
  {BOOL, "bool", 1, "f", false}, {JSONB, "jsonb", 1, NULL, true},
  /* deliveries */
  {UUID, "uuid", 3, NULL, false}, {UUID, "uuid", 3, NULL, false}, {UUID, "uuid", 3, NULL, false},
  {TEXT, "text", 3, "email", false}, {TEXT, "text", 3, "queued", false},
  {TEXT, "text", 3, NULL, true}, {TS, "timestamptz", 3, NULL, true},
  {UUID, "uuid", 3, NULL, true},
  /* audit rows */
  {UUID, "uuid", 1, NULL, false}, {TEXT, "text", 1, "user", false},
  {TEXT, "text", 1, "notification.created", false}, {TEXT, "text", 1, "notification", false},
  {TEXT, "text", 1, "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", false},
  {TEXT, "text", 1, "127.0.0.1", false}, {TEXT, "text", 1, "0193a1b2c3d47e5f8a9b0c1d2e3f4a5b", false},
  {JSONB, "jsonb", 1,
   "{\"user_id\":\"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\",\"category\":\"bench\","
   "\"priority\":\"normal\"}", false},
};
enum { NCOLS = sizeof(columns) / sizeof(columns[0]) };

static double cpu_s(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* The backend's CPU seconds (utime + stime of /proc/PID/stat; same machine). */
static double backend_s(int pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  FILE *f = fopen(path, "r");
  if (f == NULL || fgets(buf, sizeof(buf), f) == NULL) {
    if (f != NULL) {
      fclose(f);
    }
    return -1;
  }
  fclose(f);
  const char *p = strrchr(buf, ')');
  unsigned long ut = 0, st = 0;
  /* fields after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt
   * cmajflt utime stime */
  if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                          &st) != 2) {
    return -1;
  }
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Ids made beforehand, so that the client's figure is the arrays' building alone. */
enum { NIDS = 4096 };
static char ids[NIDS][H_UUID_LEN + 1];
static unsigned next_id;

/* Builds the batch's arrays (binary: each column's own encoding; else all literals) and runs
 * the statement once. */
static int run(PGconn *c, const char *sql, int sends, bool binary) {
  struct h_pg_array a[NCOLS];
  const char *params[NCOLS];
  int lengths[NCOLS], formats[NCOLS];
  for (int i = 0; i < NCOLS; i++) {
    a[i] = (struct h_pg_array){.oid = binary ? columns[i].oid : 0};
    for (int s = 0; s < sends * columns[i].per_send; s++) {
      if (columns[i].null) {
        h_pg_array_add(&a[i], NULL);
      } else if (columns[i].value == NULL) {
        h_pg_array_add(&a[i], ids[next_id++ % NIDS]);
      } else if (columns[i].oid == BOOL) {
        h_pg_array_add_bool(&a[i], columns[i].value[0] == 't');
      } else {
        h_pg_array_add(&a[i], columns[i].value);
      }
    }
  }
  PGresult *res = NULL;
  h_result r = h_pg_array_params(a, NCOLS, params, lengths, formats)
                   ? h_db_exec_formats(c, sql, NCOLS, params, lengths, formats, &res)
                   : H_ERR_INVALID;
  PQclear(res);
  for (int i = 0; i < NCOLS; i++) {
    h_pg_array_free(&a[i]);
  }
  return r == H_OK ? 0 : 1;
}

int main(int argc, char **argv) {
  int calls = argc > 2 ? atoi(argv[2]) : 20000, sends = argc > 3 ? atoi(argv[3]) : 37;
  struct h_db_options o = {.url = argc > 1 ? argv[1] : NULL, .connect_timeout_s = 5,
                           .application_name = "herald-pg-array-micro",
                           .prepared_statements = true};
  PGconn *c = NULL;
  if (argc < 2 || calls <= 0 || sends <= 0 || h_db_connect(&o, &c) != H_OK) {
    fprintf(stderr, "usage: pg_array_micro DATABASE_URL [calls] [sends per batch]\n");
    return 2;
  }
  for (int i = 0; i < NIDS; i++) {
    h_uuid_v7(ids[i]);
  }
  /* SELECT cardinality($1::uuid[]) + cardinality($2::uuid[]) + ... */
  char sql[4096];
  size_t len = (size_t)snprintf(sql, sizeof(sql), "SELECT 0");
  for (int i = 0; i < NCOLS; i++) {
    len += (size_t)snprintf(sql + len, sizeof(sql) - len, " + cardinality($%d::%s[])", i + 1,
                            columns[i].sql_type);
  }
  int pid = PQbackendPID(c);
  for (int mode = 0; mode < 2; mode++) {
    for (int i = 0; i < calls / 10; i++) { /* warm-up */
      run(c, sql, sends, mode == 1);
    }
    double c0 = cpu_s(), b0 = backend_s(pid);
    int failed = 0;
    for (int i = 0; i < calls; i++) {
      failed += run(c, sql, sends, mode == 1);
    }
    double c1 = cpu_s(), b1 = backend_s(pid);
    if (failed > 0 || b0 < 0) {
      fprintf(stderr, "%d statements failed, or no /proc for backend %d\n", failed, pid);
      return 1;
    }
    printf("%-7s arrays, %d columns, %d sends per batch: client %.2f us/send, server %.2f "
           "us/send (%.1f and %.1f us per batch)\n",
           mode == 1 ? "binary" : "text", NCOLS, sends, (c1 - c0) * 1e6 / calls / sends,
           (b1 - b0) * 1e6 / calls / sends, (c1 - c0) * 1e6 / calls, (b1 - b0) * 1e6 / calls);
  }
  PQfinish(c);
  return 0;
}
