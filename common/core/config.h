/* config.h - table-driven configuration from HERALD_* environment variables.
 *
 * One row per option (variable, type, default, bounds, description). The whole
 * table is read once at start by h_config_load(); a bad value stops the program
 * before it listens, with a message naming the variable. The struct is never
 * modified afterwards and is passed to whoever needs it. Secrets may also come
 * from a file named by <VAR>_FILE (e.g. HERALD_JWT_SECRET_FILE) and are never
 * printed. */
#ifndef HERALD_CONFIG_H
#define HERALD_CONFIG_H

/* HERALD_DB_POOL_SIZE=0 takes HERALD_HTTP_THREADS up to this: request threads hold a pooled
 * connection only for a read or a transaction (a notification's POST waits for the group
 * commit's own connection), and PostgreSQL's connections cost memory each. */
#define H_DB_POOL_DEFAULT_MAX 16

/* HERALD_HTTP_THREADS=0: twice the CPUs online, within these. The threads of the epoll pool
 * wait on PostgreSQL or Redis only for short reads (a POST is parked while its group commit
 * writes it), so about two per core keep the cores busy; more only wake more often (on the
 * 2-core machine of bench/README.md, 4 threads against 8: fewer context switches per POST
 * and 1.01x-1.11x its rate, "Session of 2026-12-07 (thirtieth)"). */
#define H_HTTP_THREADS_AUTO_MIN 4
#define H_HTTP_THREADS_AUTO_MAX 64

#include <stdbool.h>
#include <stdio.h>

#include "core/result.h"

struct h_config {
  /* HTTP server */
  char *http_bind;
  int http_port;
  char *http_mode; /* "epoll" (thread pool) or "select" (ulfius default, for benchmarks) */
  int http_threads; /* 0 in the environment: h_config_auto_http_threads of the CPUs online */
  int http_offload_threads; /* handlers that wait on a provider or a hash (api/http/offload.h) */
  int probe_port; /* 0: probes are served on the main port only */
  int probe_threads;
  char *metrics_token; /* bearer token for /metrics on the main port; "" for none */
  int http_max_connections;
  int http_per_ip_connections;
  int http_timeout_s;
  int http_connection_memory_bytes;
  int max_body_bytes;
  int max_json_depth;
  char *cors_origins; /* comma-separated, "*" for any, empty for none */
  bool hsts;
  int shutdown_timeout_s;
  /* PostgreSQL */
  char *database_url;
  char *database_listen_url;
  int db_pool_size; /* 0 in the environment: http_threads + http_offload_threads, at most
                       H_DB_POOL_DEFAULT_MAX */
  int db_acquire_timeout_ms;
  int db_connect_timeout_s;
  int db_statement_timeout_ms;
  /* Redis */
  char *redis_url;
  int redis_timeout_ms;
  /* Redis Sentinel (store/redis_sentinel.h) */
  char *redis_sentinels;
  char *redis_master_name;
  char *redis_sentinel_password;
  char *trusted_proxies; /* common/net/forwarded.h */
  /* Logs */
  char *log_level;
  /* Auth */
  char *jwt_secret;
  char *jwt_issuer;
  char *jwt_audience;
  int access_token_ttl_s;
  char *jwt_alg;
  char *jwt_key_id;
  char *jwt_private_key_file;
  char *jwt_public_key_file;
  char *jwt_previous_secret;
  char *jwt_previous_key_id;
  int refresh_token_ttl_s;
  int lockout_threshold;
  int lockout_window_s;
  int lockout_duration_s;
  int token_epoch_cache_ms;
  int user_cache_ms;
  int feed_cache_ms;
  bool mfa_required_for_admins;
  int mfa_challenge_ttl_s;
  int auth_rate_limit;
  int auth_rate_window_s;
  int rate_window_s;         /* window of the read/write/admin/webhooks/service limits */
  int rate_limit_lease;      /* most counts taken from Redis at once (store/rate_counter.h) */
  int rate_read_user, rate_read_ip;
  int rate_write_user, rate_write_ip;
  int rate_admin_user, rate_admin_ip;
  int rate_webhooks_ip;
  int rate_service;          /* per API key, every route */
  int rate_password_user;    /* POST /users/me/password per user per auth window */
  int rate_verify_resend_user; /* POST /auth/verify-email/resend per user per auth window */
  int reset_token_ttl_s;
  int verify_token_ttl_s;
  char *public_url;
  /* Demo admin created by `herald-api create-admin` */
  char *admin_email;
  char *admin_password;
  /* Documentation assets served at /docs */
  char *docs_dir;
  /* Static demo page served at /demo (empty: no /demo) */
  char *demo_dir;

  int worker_concurrency;
  int worker_block_ms;
  int worker_batch;           /* jobs claimed together per thread */
  int worker_batch_window_ms; /* time a batch may take to fill */
  int worker_in_flight;       /* provider requests a worker thread sends at once */
  int worker_heartbeat_ttl_ms;
  int worker_reap_interval_ms;
  int worker_max_recoveries;
  int worker_promote_interval_ms;
  int worker_sweep_interval_s;
  int worker_stale_after_s;
  int worker_watchdog_grace_ms;
  int worker_metrics_port;
  int retry_base_ms;
  int retry_max_ms;
  int email_max_attempts;
  int sms_max_attempts;
  int push_max_attempts;
  int webhook_max_attempts;
  char *email_on_recovery; /* resend|hold */
  char *sms_on_recovery;
  char *push_on_recovery;
  int webhook_disable_after;     /* consecutive failures that disable an endpoint */
  bool webhook_allow_http;
  char *webhook_allow_nets;      /* CIDR list reachable despite the address check */
  int webhook_secret_grace_s;
  int webhook_max_endpoints;
  int webhook_max_response_bytes;
  char *digest_windows;          /* core/flood.h */
  char *flood_exempt_categories;
  char *throttle_per_hour;
  char *daily_caps;
  int provider_timeout_ms;
  int breaker_failures;
  int breaker_error_rate; /* percent */
  int breaker_min_calls;
  int breaker_window_s;
  int breaker_cooldown_ms;
  char *email_provider; /* file|smtp */
  char *email_providers; /* ordered list, "" for email_provider alone */
  char *email_outbox_dir;
  char *email_from;
  char *email_reply_to;
  char *email_transactional_categories;
  char *email_unsubscribe_url;
  char *unsubscribe_secret;   /* signs one-click unsubscribe links (empty: from jwt_secret) */
  char *product_name;         /* shown in e-mails */
  char *smtp_host;
  int smtp_port;
  char *smtp_tls; /* none|starttls|tls */
  char *smtp_user;
  char *smtp_password;
  bool smtp_plaintext_auth; /* AUTH allowed without TLS */
  char *smtp_ca_file;
  char *sendgrid_base_url;
  char *sendgrid_api_key;
  char *sendgrid_webhook_public_key;
  char *mailgun_base_url;
  char *mailgun_domain;
  char *mailgun_api_key;
  char *mailgun_webhook_signing_key;
  int provider_webhook_tolerance_s;
  char *sms_provider; /* file|twilio */
  char *sms_providers; /* ordered list, "" for sms_provider alone */
  char *sms_outbox_dir;
  char *sms_base_url;
  char *sms_account_sid;
  char *sms_auth_token;
  char *sms_from;
  char *sms_status_callback_url;
  char *vonage_base_url;
  char *vonage_api_key;
  char *vonage_api_secret;
  char *vonage_signature_secret;
  char *vonage_from;
  char *vonage_status_callback_url;
  char *sms_help_text;
  char *push_provider; /* file|fcm */
  char *push_outbox_dir;
  char *fcm_base_url;
  char *fcm_credentials_file;
  char *fcm_project_id;
  /* Stripe and money (payments/stripe/stripe.h, core/money.h) */
  char *stripe_api_base;
  char *stripe_secret_key;
  char *stripe_webhook_secret;
  char *stripe_api_version;
  int stripe_connect_timeout_ms;
  int stripe_timeout_ms;
  int stripe_max_retries;
  int stripe_webhook_tolerance_s;
  char *stripe_publishable_key;
  char *payment_default_provider;
  /* M-Pesa Daraja (payments/mpesa/mpesa.h) */
  char *mpesa_api_base;
  char *mpesa_consumer_key;
  char *mpesa_consumer_secret;
  char *mpesa_shortcode;
  char *mpesa_passkey;
  char *mpesa_callback_base_url;
  char *mpesa_callback_secret;
  char *mpesa_callback_allow_ips;
  char *mpesa_initiator;
  char *mpesa_security_credential;
  int mpesa_timeout_ms;
  int payment_max_amount;
  char *payment_currencies;
  char *payment_provider_fees;
  char *payment_platform_fees;
  int billing_max_retries; /* subscriptions (billing/subscription_events.h) */
  /* Sweeper, fan-out and idempotency (queue/sweeper.h, app/background.h) */
  int sweep_interval_s;
  int sweep_stale_s;
  int sweep_batch;
  int fanout_poll_ms;
  int fanout_batch;
  int idempotency_ttl_s;
  int idempotency_lock_s;
  /* The notification stream (common/inbox/) */
  int stream_ticket_ttl_s;
  int stream_heartbeat_s;
  int stream_replay_window;
  int stream_buffer_bytes;
  int stream_max;
  int stream_shards;
  int stream_auth_check_s;
  /* Group commit of POST /api/v1/notifications (store/group_commit.h) */
  bool group_commit;
  int group_commit_max_batch;
  int group_commit_wait_us;
  int group_commit_threads;
  bool db_prepared_statements;
  /* herald-reconcile's housekeeping */
  int audit_retention_days;
  int event_retention_days;
  int notification_retention_days;
};

/* Kinds of values the table knows. */
enum h_config_type { H_CFG_STRING, H_CFG_INT, H_CFG_BOOL, H_CFG_ENUM };

struct h_config_option {
  const char *env;          /* "HERALD_HTTP_PORT" */
  enum h_config_type type;
  size_t offset;            /* offsetof(struct h_config, field) */
  const char *default_value;
  long min, max;            /* bounds for H_CFG_INT */
  const char *choices;      /* "a|b|c" for H_CFG_ENUM */
  bool secret;              /* never printed; may come from <env>_FILE */
  const char *description;
};

/* The table itself (terminated by a row whose env is NULL). Static. */
const struct h_config_option *h_config_options(void);

/* HERALD_HTTP_THREADS=0's value for cpus CPUs online (sysconf's answer; < 1: unknown): twice
 * them, at least H_HTTP_THREADS_AUTO_MIN and at most H_HTTP_THREADS_AUTO_MAX. Pure. */
int h_config_auto_http_threads(long cpus);

/* Fills cfg from the environment. On error returns H_ERR_INVALID and sets *error to
 * a message naming the variable (caller frees); cfg is then left cleared. */
h_result h_config_load(struct h_config *cfg, char **error);

/* Frees the strings cfg holds. */
void h_config_free(struct h_config *cfg);

/* Writes the reference of every option as a Markdown table. */
void h_config_print_markdown(FILE *out);

/* Checks value, a comma-separated list of distinct entries of choices ("a|b|c"), at
 * most max of them ("" is an empty list): NULL, or a new message naming env. Pure. */
char *h_config_list_check(const char *env, const char *value, const char *choices, int max);

#endif
