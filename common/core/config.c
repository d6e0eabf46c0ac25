/* config.c - the configuration table and its loader. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/flood.h"
#include "core/money.h"
#include "net/forwarded.h"
#include "net/netaddr.h"
#include "store/redis_sentinel.h"

#define OPT(env, type, field, def, min, max, choices, secret, desc) \
  {env, type, offsetof(struct h_config, field), def, min, max, choices, secret, desc}

static const struct h_config_option options[] = {
  OPT("HERALD_HTTP_BIND", H_CFG_STRING, http_bind, "0.0.0.0", 0, 0, NULL, false,
      "IPv4 address the API listens on"),
  OPT("HERALD_HTTP_PORT", H_CFG_INT, http_port, "8080", 0, 65535, NULL, false,
      "TCP port of the API (0 picks a free one, for tests)"),
  OPT("HERALD_HTTP_MODE", H_CFG_ENUM, http_mode, "epoll", 0, 0, "epoll|select", false,
      "epoll: internal thread pool (production); select: ulfius default, kept for benchmarks"),
  OPT("HERALD_PROBE_PORT", H_CFG_INT, probe_port, "0", 0, 65535, NULL, false,
      "second port serving only /healthz, /readyz and /metrics on its own threads"
      " (HERALD_PROBE_THREADS), so probes answer while every API thread waits on PostgreSQL"
      " (0: off)"),
  OPT("HERALD_PROBE_THREADS", H_CFG_INT, probe_threads, "2", 1, 64, NULL, false,
      "threads of the probe port"),
  OPT("HERALD_METRICS_TOKEN", H_CFG_STRING, metrics_token, "", 0, 0, NULL, true,
      "bearer token that /metrics on the main port requires; empty: /metrics there answers"
      " only local scrapes (a loopback peer, no X-Forwarded-For), the probe port always"),
  OPT("HERALD_HTTP_THREADS", H_CFG_INT, http_threads, "0", 0, 1024, NULL, false,
      "epoll thread pool size: the requests that wait for PostgreSQL or Redis at once (a POST"
      " of a notification holds no thread while its group commit writes it: api/http/park.h;"
      " a provider's or a password hash's wait runs on HERALD_HTTP_OFFLOAD_THREADS); 0: twice"
      " the CPUs online, at least 4 and at most 64; never 1 (see DESIGN.md)"),
  OPT("HERALD_HTTP_OFFLOAD_THREADS", H_CFG_INT, http_offload_threads, "16", 0, 256, NULL, false,
      "threads that run the handlers that wait on a payment provider or a password hash, so"
      " those never hold an HTTP thread (api/http/offload.h); 0: they run on the HTTP threads"),
  OPT("HERALD_HTTP_MAX_CONNECTIONS", H_CFG_INT, http_max_connections, "4096", 1, 1000000, NULL,
      false, "connections accepted at once"),
  OPT("HERALD_HTTP_PER_IP_CONNECTIONS", H_CFG_INT, http_per_ip_connections, "0", 0, 1000000,
      NULL, false, "connections per client IP (0: unlimited)"),
  OPT("HERALD_HTTP_TIMEOUT_S", H_CFG_INT, http_timeout_s, "30", 1, 3600, NULL, false,
      "idle connection timeout in seconds"),
  OPT("HERALD_HTTP_CONNECTION_MEMORY_BYTES", H_CFG_INT, http_connection_memory_bytes, "8192",
      4096, 1048576, NULL, false,
      "memory pool of one connection: its request line and headers (about 6 KB of headers fit"
      " in 8 KB) and the response head; an open notification stream keeps its pool, so it is"
      " most of a stream's memory (docs/streaming.md)"),
  OPT("HERALD_MAX_BODY_BYTES", H_CFG_INT, max_body_bytes, "1048576", 1024, 104857600, NULL,
      false, "largest request body accepted (413 beyond)"),
  OPT("HERALD_MAX_JSON_DEPTH", H_CFG_INT, max_json_depth, "32", 2, 512, NULL, false,
      "deepest JSON nesting accepted (400 beyond)"),
  OPT("HERALD_CORS_ORIGINS", H_CFG_STRING, cors_origins, "", 0, 0, NULL, false,
      "comma-separated origins allowed by CORS, * for any, empty for none"),
  OPT("HERALD_HSTS", H_CFG_BOOL, hsts, "false", 0, 0, NULL, false,
      "send Strict-Transport-Security (set when served over TLS)"),
  OPT("HERALD_SHUTDOWN_TIMEOUT_S", H_CFG_INT, shutdown_timeout_s, "10", 0, 600, NULL, false,
      "how long SIGTERM waits for in-flight requests"),
  OPT("HERALD_DATABASE_URL", H_CFG_STRING, database_url,
      "postgresql://herald@127.0.0.1:5432/herald", 0, 0, NULL, true,
      "libpq connection string or URI of PostgreSQL"),
  OPT("HERALD_DATABASE_LISTEN_URL", H_CFG_STRING, database_listen_url, "", 0, 0, NULL, true,
      "PostgreSQL for the API's LISTEN connection (users' profile copies, HERALD_USER_CACHE_MS),"
      " never a transaction pooler; empty: HERALD_DATABASE_URL, unless"
      " HERALD_DB_PREPARED_STATEMENTS is false (a pooler), when profiles are read on every"
      " request"),
  OPT("HERALD_DB_POOL_SIZE", H_CFG_INT, db_pool_size, "0", 0, 1024, NULL, false,
      "PostgreSQL connections in the pool (0: HERALD_HTTP_THREADS + HERALD_HTTP_OFFLOAD_THREADS,"
      " at most 16)"),
  OPT("HERALD_DB_ACQUIRE_TIMEOUT_MS", H_CFG_INT, db_acquire_timeout_ms, "2000", 1, 60000, NULL,
      false, "longest wait for a pooled connection before 503"),
  OPT("HERALD_DB_CONNECT_TIMEOUT_S", H_CFG_INT, db_connect_timeout_s, "3", 1, 60, NULL, false,
      "PostgreSQL connect timeout"),
  OPT("HERALD_DB_STATEMENT_TIMEOUT_MS", H_CFG_INT, db_statement_timeout_ms, "5000", 0, 3600000,
      NULL, false, "statement_timeout of pooled connections (0: none)"),
  OPT("HERALD_REDIS_URL", H_CFG_STRING, redis_url, "redis://127.0.0.1:6379/0", 0, 0, NULL, true,
      "redis://[:password@]host:port/db"),
  OPT("HERALD_REDIS_TIMEOUT_MS", H_CFG_INT, redis_timeout_ms, "1000", 10, 60000, NULL, false,
      "Redis connect and command timeout"),
  /* Redis Sentinel and load balancers in front of the API */
  OPT("HERALD_REDIS_SENTINELS", H_CFG_STRING, redis_sentinels, "", 0, 0, NULL, false,
      "comma-separated host:port of Redis Sentinels; when set, the primary is asked of them at"
      " every connect and the host:port of HERALD_REDIS_URL is ignored (its password and db"
      " apply)"),
  OPT("HERALD_REDIS_MASTER_NAME", H_CFG_STRING, redis_master_name, "", 0, 0, NULL, false,
      "name of the primary the sentinels monitor (required with HERALD_REDIS_SENTINELS)"),
  OPT("HERALD_REDIS_SENTINEL_PASSWORD", H_CFG_STRING, redis_sentinel_password, "", 0, 0, NULL,
      true, "password of the sentinels themselves (empty: none)"),
  OPT("HERALD_TRUSTED_PROXIES", H_CFG_STRING, trusted_proxies, "", 0, 0, NULL, false,
      "comma-separated IPv4 addresses or a.b.c.d/bits of load balancers whose X-Forwarded-For"
      " names the client (for per-IP limits, logs and audit rows); empty: the TCP peer is the"
      " client"),
  OPT("HERALD_LOG_LEVEL", H_CFG_ENUM, log_level, "info", 0, 0, "error|warning|info|debug", false,
      "lowest level logged"),
  OPT("HERALD_JWT_SECRET", H_CFG_STRING, jwt_secret, "", 0, 0, NULL, true,
      "HS256 signing key, at least 32 bytes (generated per process when empty: dev only)"),
  OPT("HERALD_JWT_ISSUER", H_CFG_STRING, jwt_issuer, "herald", 0, 0, NULL, false,
      "iss claim of access tokens"),
  OPT("HERALD_JWT_AUDIENCE", H_CFG_STRING, jwt_audience, "herald-api", 0, 0, NULL, false,
      "aud claim of access tokens"),
  OPT("HERALD_ACCESS_TOKEN_TTL_S", H_CFG_INT, access_token_ttl_s, "900", 30, 86400, NULL, false,
      "access token lifetime"),
  OPT("HERALD_JWT_ALG", H_CFG_ENUM, jwt_alg, "HS256", 0, 0, "HS256|RS256", false,
      "access token signature algorithm"),
  OPT("HERALD_JWT_KEY_ID", H_CFG_STRING, jwt_key_id, "k1", 0, 0, NULL, false,
      "kid of the current signing key"),
  OPT("HERALD_JWT_PRIVATE_KEY_FILE", H_CFG_STRING, jwt_private_key_file, "", 0, 0, NULL, false,
      "RS256: PEM private key used to sign"),
  OPT("HERALD_JWT_PUBLIC_KEY_FILE", H_CFG_STRING, jwt_public_key_file, "", 0, 0, NULL, false,
      "RS256: PEM public key used to verify"),
  OPT("HERALD_JWT_PREVIOUS_SECRET", H_CFG_STRING, jwt_previous_secret, "", 0, 0, NULL, true,
      "HS256: the retiring key, still accepted while its tokens live (rotation)"),
  OPT("HERALD_JWT_PREVIOUS_KEY_ID", H_CFG_STRING, jwt_previous_key_id, "", 0, 0, NULL, false,
      "kid of the retiring key"),
  OPT("HERALD_REFRESH_TOKEN_TTL_S", H_CFG_INT, refresh_token_ttl_s, "2592000", 60, 31536000,
      NULL, false, "refresh token lifetime (30 days)"),
  OPT("HERALD_LOCKOUT_THRESHOLD", H_CFG_INT, lockout_threshold, "5", 1, 1000, NULL, false,
      "failed logins within the window that lock an account"),
  OPT("HERALD_LOCKOUT_WINDOW_S", H_CFG_INT, lockout_window_s, "900", 1, 86400, NULL, false,
      "window in which failed logins are counted"),
  OPT("HERALD_LOCKOUT_DURATION_S", H_CFG_INT, lockout_duration_s, "900", 1, 86400, NULL, false,
      "how long a locked account stays locked"),
  OPT("HERALD_TOKEN_EPOCH_CACHE_MS", H_CFG_INT, token_epoch_cache_ms, "1000", 0, 60000, NULL,
      false,
      "how long an API process trusts its copy of a user's token epoch (role change, disabling,"
      " password change, sign-out everywhere end access tokens at once on the process that made"
      " the change, on the others when PostgreSQL's notice of the change arrives, and within"
      " this time if none can; 0: read it on every request)"),
  OPT("HERALD_FEED_CACHE_MS", H_CFG_INT, feed_cache_ms, "10000", 0, 600000, NULL, false,
      "how long an API process may keep its copy of a user's first feed page (GET"
      " /api/v1/notifications without a cursor or filters other than ?unread=true and ?limit=);"
      " a change made through Herald drops the copies of every process when its stream notice"
      " arrives, a scheduled notification ends the copy when it falls due, and none is kept"
      " while the process is not subscribed to the notices (no stream hub, Redis away);"
      " 0: read it on every request)"),
  OPT("HERALD_USER_CACHE_MS", H_CFG_INT, user_cache_ms, "10000", 0, 600000, NULL, false,
      "how long an API process may keep its copy of a user's profile (GET /api/v1/users/me);"
      " a change drops the copies of every process when its notice arrives, and none is kept"
      " while the process cannot LISTEN (docs/architecture.md); 0: read it on every request)"),
  OPT("HERALD_MFA_REQUIRED_FOR_ADMINS", H_CFG_BOOL, mfa_required_for_admins, "false", 0, 0, NULL,
      false,
      "admin endpoints refuse (403 mfa_required) access tokens of a sign-in without a second"
      " factor"),
  OPT("HERALD_MFA_CHALLENGE_TTL_S", H_CFG_INT, mfa_challenge_ttl_s, "300", 30, 3600, NULL, false,
      "lifetime of the challenge a sign-in with two-factor authentication answers"),
  OPT("HERALD_AUTH_RATE_LIMIT", H_CFG_INT, auth_rate_limit, "30", 1, 1000000, NULL, false,
      "requests per client IP per window to each /auth endpoint and to POST "
      "/users/me/password (429 beyond)"),
  OPT("HERALD_AUTH_RATE_WINDOW_S", H_CFG_INT, auth_rate_window_s, "60", 1, 3600, NULL, false,
      "window of the auth and password-change limits"),
  OPT("HERALD_RATE_LIMIT_VERIFY_RESEND", H_CFG_INT, rate_verify_resend_user, "3", 1, 1000000,
      NULL, false, "POST /auth/verify-email/resend per user per auth window (besides the per-IP"
      " auth limit)"),
  OPT("HERALD_RATE_LIMIT_PASSWORD", H_CFG_INT, rate_password_user, "5", 1, 1000000, NULL, false,
      "POST /users/me/password attempts per user per auth window (each costs a scrypt)"),
  OPT("HERALD_RATE_WINDOW_S", H_CFG_INT, rate_window_s, "60", 1, 3600, NULL, false,
      "window of the read, write, admin, webhooks and service limits"),
  OPT("HERALD_RATE_LIMIT_LEASE", H_CFG_INT, rate_limit_lease, "64", 1, 10000, NULL, false,
      "most counts of a limit one API process takes from Redis at once and hands out without "
      "a round trip (an eighth of what is left below the limit, so never over it; limits under"
      " 64 are not leased; 1: a round trip per request)"),
  OPT("HERALD_RATE_LIMIT_READ_USER", H_CFG_INT, rate_read_user, "1200", 0, 100000000, NULL,
      false, "GET requests per signed-in user per window (0: no limit)"),
  OPT("HERALD_RATE_LIMIT_READ_IP", H_CFG_INT, rate_read_ip, "6000", 0, 100000000, NULL, false,
      "GET requests per client IP (IPv6: per /64) per window (0: no limit)"),
  OPT("HERALD_RATE_LIMIT_WRITE_USER", H_CFG_INT, rate_write_user, "600", 0, 100000000, NULL,
      false, "POST/PUT/PATCH/DELETE requests per signed-in user per window (0: no limit)"),
  OPT("HERALD_RATE_LIMIT_WRITE_IP", H_CFG_INT, rate_write_ip, "3000", 0, 100000000, NULL,
      false, "POST/PUT/PATCH/DELETE requests per client IP (IPv6: per /64) per window (0: no "
      "limit)"),
  OPT("HERALD_RATE_LIMIT_ADMIN_USER", H_CFG_INT, rate_admin_user, "1200", 0, 100000000, NULL,
      false, "/admin requests per admin per window (0: no limit)"),
  OPT("HERALD_RATE_LIMIT_ADMIN_IP", H_CFG_INT, rate_admin_ip, "6000", 0, 100000000, NULL,
      false, "/admin requests per client IP (IPv6: per /64) per window (0: no limit)"),
  OPT("HERALD_RATE_LIMIT_WEBHOOKS_IP", H_CFG_INT, rate_webhooks_ip, "6000", 0, 100000000, NULL,
      false, "provider callbacks (/webhooks) per client IP per window (0: no limit)"),
  OPT("HERALD_RATE_LIMIT_SERVICE", H_CFG_INT, rate_service, "60000", 0, 100000000, NULL, false,
      "requests per API key per window, any route (0: no limit)"),
  OPT("HERALD_RESET_TOKEN_TTL_S", H_CFG_INT, reset_token_ttl_s, "3600", 60, 604800, NULL, false,
      "password-reset token lifetime"),
  OPT("HERALD_VERIFY_TOKEN_TTL_S", H_CFG_INT, verify_token_ttl_s, "172800", 60, 2592000, NULL,
      false, "e-mail verification token lifetime"),
  OPT("HERALD_PUBLIC_URL", H_CFG_STRING, public_url, "http://localhost:8080", 0, 0, NULL, false,
      "base URL of the apps, used in links sent by e-mail"),
  OPT("HERALD_ADMIN_EMAIL", H_CFG_STRING, admin_email, "", 0, 0, NULL, false,
      "e-mail of the admin made by `herald-api create-admin`"),
  OPT("HERALD_ADMIN_PASSWORD", H_CFG_STRING, admin_password, "", 0, 0, NULL, true,
      "password of that admin"),
  OPT("HERALD_DOCS_DIR", H_CFG_STRING, docs_dir, "", 0, 0, NULL, false,
      "folder with the /docs page assets (empty: next to the binary)"),
  OPT("HERALD_DEMO_DIR", H_CFG_STRING, demo_dir, "", 0, 0, NULL, false,
      "absolute path of the folder served at /demo (the inbox demo page of `make run`; empty: no"
      " /demo)"),
  /* Workers and their providers */
  OPT("HERALD_WORKER_CONCURRENCY", H_CFG_INT, worker_concurrency, "2", 1, 256, NULL, false,
      "worker threads per worker process, each with its own Redis and PostgreSQL connection"
      " (--concurrency)"),
  OPT("HERALD_WORKER_BLOCK_MS", H_CFG_INT, worker_block_ms, "1000", 50, 30000, NULL, false,
      "longest wait of one BLMOVE for a job (also how fast SIGTERM is noticed)"),
  /* Batches of jobs per worker thread */
  OPT("HERALD_WORKER_BATCH", H_CFG_INT, worker_batch, "64", 1, 500, NULL, false,
      "most ids a worker thread fetches, claims and records at once (--batch; 1: one by one)"),
  OPT("HERALD_WORKER_BATCH_WINDOW_MS", H_CFG_INT, worker_batch_window_ms, "20", 1, 60000, NULL,
      false, "a batch holds at most as many jobs as the thread's provider calls take in this"
      " many ms (moving average; the first batch is one job), which bounds what a crash may"
      " send twice and what a slow provider delays"),
  OPT("HERALD_WORKER_IN_FLIGHT", H_CFG_INT, worker_in_flight, "16", 1, 100, NULL, false,
      "provider requests a worker thread keeps in flight at once, for the HTTP providers (fcm,"
      " twilio, vonage, sendgrid, mailgun): a batch's jobs are sent this many at a time instead"
      " of one by one (--in-flight; 1: one by one)"),
  OPT("HERALD_WORKER_HEARTBEAT_TTL_MS", H_CFG_INT, worker_heartbeat_ttl_ms, "15000", 300,
      600000, NULL, false, "TTL of a worker's heartbeat key; its jobs are recovered after it expires"),
  OPT("HERALD_WORKER_REAP_INTERVAL_MS", H_CFG_INT, worker_reap_interval_ms, "5000", 100, 600000,
      NULL, false, "how often a worker looks for dead workers' jobs (one reaper at a time)"),
  OPT("HERALD_WORKER_MAX_RECOVERIES", H_CFG_INT, worker_max_recoveries, "3", 1, 100, NULL, false,
      "a job recovered from dead workers this many times goes dead"),
  OPT("HERALD_WORKER_PROMOTE_INTERVAL_MS", H_CFG_INT, worker_promote_interval_ms, "250", 10,
      60000, NULL, false, "how often due jobs move from the delayed set to the ready list"),
  OPT("HERALD_WORKER_SWEEP_INTERVAL_S", H_CFG_INT, worker_sweep_interval_s, "30", 1, 86400, NULL,
      false, "how often PostgreSQL is swept for jobs Redis lost (one sweeper at a time)"),
  OPT("HERALD_WORKER_STALE_AFTER_S", H_CFG_INT, worker_stale_after_s, "300", 5, 86400, NULL,
      false, "a job queued, due or processing this long without progress is re-pushed or recovered"
      " by the sweeper (a queued one still waiting after a re-push: twice as long each time, at"
      " most 16 times)"),
  OPT("HERALD_WORKER_WATCHDOG_GRACE_MS", H_CFG_INT, worker_watchdog_grace_ms, "5000", 100,
      600000, NULL, false, "a connection silent this long past its own timeout is cut by the watchdog"),
  OPT("HERALD_WORKER_METRICS_PORT", H_CFG_INT, worker_metrics_port, "0", 0, 65535, NULL, false,
      "port of a worker's Prometheus /metrics on 127.0.0.1 (0: off; --metrics-port)"),
  OPT("HERALD_RETRY_BASE_MS", H_CFG_INT, retry_base_ms, "2000", 10, 3600000, NULL, false,
      "first retry delay; doubles per attempt, with jitter (delay/2..delay)"),
  OPT("HERALD_RETRY_MAX_MS", H_CFG_INT, retry_max_ms, "600000", 10, 86400000, NULL, false,
      "longest retry delay (a provider's Retry-After may ask for more)"),
  OPT("HERALD_EMAIL_MAX_ATTEMPTS", H_CFG_INT, email_max_attempts, "5", 1, 100, NULL, false,
      "e-mail attempts before the job goes dead (herald:dlq:{email})"),
  OPT("HERALD_SMS_MAX_ATTEMPTS", H_CFG_INT, sms_max_attempts, "5", 1, 100, NULL, false,
      "SMS attempts before the job goes dead"),
  OPT("HERALD_PUSH_MAX_ATTEMPTS", H_CFG_INT, push_max_attempts, "5", 1, 100, NULL, false,
      "push attempts before the job goes dead"),
  OPT("HERALD_WEBHOOK_MAX_ATTEMPTS", H_CFG_INT, webhook_max_attempts, "8", 1, 100, NULL, false,
      "webhook attempts before the job goes dead"),
  OPT("HERALD_EMAIL_ON_RECOVERY", H_CFG_ENUM, email_on_recovery, "resend", 0, 0, "resend|hold",
      false, "an e-mail job recovered from a dead worker may already be sent: resend or hold for"
      " review (status held)"),
  OPT("HERALD_SMS_ON_RECOVERY", H_CFG_ENUM, sms_on_recovery, "resend", 0, 0, "resend|hold", false,
      "the same for SMS"),
  OPT("HERALD_PUSH_ON_RECOVERY", H_CFG_ENUM, push_on_recovery, "resend", 0, 0, "resend|hold",
      false, "the same for push"),
  OPT("HERALD_WEBHOOK_DISABLE_AFTER", H_CFG_INT, webhook_disable_after, "20", 1, 100000, NULL,
      false, "consecutive failed attempts after which a webhook endpoint is disabled (its owner"
      " is told by e-mail)"),
  OPT("HERALD_WEBHOOK_ALLOW_HTTP", H_CFG_BOOL, webhook_allow_http, "false", 0, 0, NULL, false,
      "accept http:// webhook endpoints (development only; otherwise https:// is required)"),
  OPT("HERALD_WEBHOOK_ALLOW_NETS", H_CFG_STRING, webhook_allow_nets, "", 0, 0, NULL, false,
      "comma-separated CIDR prefixes webhook endpoints may reach although loopback, private,"
      " link-local, CGNAT, ULA or otherwise not public (e.g. 127.0.0.1/32 in tests; empty:"
      " public addresses only)"),
  OPT("HERALD_WEBHOOK_SECRET_GRACE_S", H_CFG_INT, webhook_secret_grace_s, "86400", 0, 2592000,
      NULL, false, "after a secret rotation, how long the previous secret also signs"),
  OPT("HERALD_WEBHOOK_MAX_ENDPOINTS", H_CFG_INT, webhook_max_endpoints, "10", 1, 16, NULL, false,
      "webhook endpoints per user (and system-wide endpoints in all)"),
  OPT("HERALD_WEBHOOK_MAX_RESPONSE_BYTES", H_CFG_INT, webhook_max_response_bytes, "65536", 1024,
      16777216, NULL, false, "longest webhook response body read; a longer one fails the attempt"),
  OPT("HERALD_DIGEST_WINDOWS", H_CFG_STRING, digest_windows, "", 0, 0, NULL, false,
      "category=seconds,...: e-mail and push of these categories wait for the window and go out"
      " as one digest listing them (in-app stays individual; empty: no digests)"),
  OPT("HERALD_FLOOD_EXEMPT_CATEGORIES", H_CFG_STRING, flood_exempt_categories,
      "security,account", 0, 0, NULL, false,
      "categories never digested, throttled or capped (critical priority never is either)"),
  OPT("HERALD_THROTTLE_PER_HOUR", H_CFG_STRING, throttle_per_hour, "", 0, 0, NULL, false,
      "channel=N,...: at most N deliveries per user and hour on the channel; the excess waits"
      " for the category's digest, else ends throttled (empty: none)"),
  OPT("HERALD_DAILY_CAPS", H_CFG_STRING, daily_caps, "", 0, 0, NULL, false,
      "channel=N,...: at most N deliveries per channel and UTC day; the excess ends capped and"
      " the admins get one e-mail a day (empty: none)"),
  OPT("HERALD_PROVIDER_TIMEOUT_MS", H_CFG_INT, provider_timeout_ms, "10000", 100, 300000, NULL,
      false, "timeout of one provider call (SMTP transaction, SMS or FCM request)"),
  OPT("HERALD_BREAKER_FAILURES", H_CFG_INT, breaker_failures, "5", 1, 1000, NULL, false,
      "a provider's circuit breaker opens after this many failed calls in a row (breakers run"
      " when HERALD_EMAIL_PROVIDERS or HERALD_SMS_PROVIDERS is set)"),
  OPT("HERALD_BREAKER_ERROR_RATE", H_CFG_INT, breaker_error_rate, "50", 1, 100, NULL, false,
      "... or when this percentage of its calls in the window failed"),
  OPT("HERALD_BREAKER_MIN_CALLS", H_CFG_INT, breaker_min_calls, "20", 1, 100000, NULL, false,
      "calls in the window before the error rate counts"),
  OPT("HERALD_BREAKER_WINDOW_S", H_CFG_INT, breaker_window_s, "60", 1, 86400, NULL, false,
      "length of the error-rate window (fixed windows, seconds)"),
  OPT("HERALD_BREAKER_COOLDOWN_MS", H_CFG_INT, breaker_cooldown_ms, "30000", 50, 3600000, NULL,
      false, "an open breaker lets one probe call through (half-open) after this long; the"
      " probe's success closes it, its failure opens it again"),
  OPT("HERALD_EMAIL_PROVIDER", H_CFG_ENUM, email_provider, "file", 0, 0, "file|smtp", false,
      "how herald-email sends: .eml files in HERALD_EMAIL_OUTBOX_DIR, or SMTP"),
  OPT("HERALD_EMAIL_PROVIDERS", H_CFG_STRING, email_providers, "", 0, 0, NULL, false,
      "ordered e-mail providers, comma-separated (file, smtp, sendgrid, mailgun; at most 4,"
      " e.g. smtp,sendgrid): a job goes to the first whose breaker is closed and moves on after"
      " a timeout, 5xx or 429 (empty: HERALD_EMAIL_PROVIDER alone, no breaker)"),
  OPT("HERALD_EMAIL_OUTBOX_DIR", H_CFG_STRING, email_outbox_dir, "var/outbox/email", 0, 0, NULL,
      false, "folder of the file e-mail provider"),
  OPT("HERALD_EMAIL_FROM", H_CFG_STRING, email_from, "Herald <no-reply@herald.local>", 0, 0,
      NULL, false, "From of e-mails: address or Name <address>"),
  OPT("HERALD_EMAIL_REPLY_TO", H_CFG_STRING, email_reply_to, "", 0, 0, NULL, false,
      "Reply-To of e-mails (empty: none)"),
  OPT("HERALD_EMAIL_TRANSACTIONAL_CATEGORIES", H_CFG_STRING, email_transactional_categories,
      "account,security,transactional,billing", 0, 0, NULL, false,
      "comma-separated categories sent without List-Unsubscribe"),
  OPT("HERALD_EMAIL_UNSUBSCRIBE_URL", H_CFG_STRING, email_unsubscribe_url, "", 0, 0, NULL, false,
      "List-Unsubscribe link, {category} replaced (empty: the signed one-click link"
      " HERALD_PUBLIC_URL/api/v1/unsubscribe?...)"),
  OPT("HERALD_UNSUBSCRIBE_SECRET", H_CFG_STRING, unsubscribe_secret, "", 0, 0, NULL, true,
      "signs one-click unsubscribe links, at least 32 bytes; the API and herald-email need the"
      " same (empty: derived from HERALD_JWT_SECRET; neither: no one-click link)"),
  OPT("HERALD_PRODUCT_NAME", H_CFG_STRING, product_name, "Herald", 0, 0, NULL, false,
      "product name in the header and footer of HTML e-mails (1-64 characters)"),
  OPT("HERALD_SMTP_HOST", H_CFG_STRING, smtp_host, "127.0.0.1", 0, 0, NULL, false,
      "SMTP server of the smtp e-mail provider"),
  OPT("HERALD_SMTP_PORT", H_CFG_INT, smtp_port, "25", 1, 65535, NULL, false, "its port"),
  OPT("HERALD_SMTP_TLS", H_CFG_ENUM, smtp_tls, "none", 0, 0, "none|starttls|tls", false,
      "plain, STARTTLS required, or TLS from the first byte (smtps)"),
  OPT("HERALD_SMTP_USER", H_CFG_STRING, smtp_user, "", 0, 0, NULL, false,
      "SMTP AUTH user (empty: no AUTH)"),
  OPT("HERALD_SMTP_PASSWORD", H_CFG_STRING, smtp_password, "", 0, 0, NULL, true,
      "SMTP AUTH password"),
  OPT("HERALD_SMTP_PLAINTEXT_AUTH", H_CFG_BOOL, smtp_plaintext_auth, "false", 0, 0, NULL, false,
      "allow SMTP AUTH without TLS (a trusted local relay only); otherwise HERALD_SMTP_USER"
      " needs HERALD_SMTP_TLS starttls or tls"),
  OPT("HERALD_SMTP_CA_FILE", H_CFG_STRING, smtp_ca_file, "", 0, 0, NULL, false,
      "PEM bundle trusted for the SMTP server's certificate (empty: the system's)"),
  OPT("HERALD_SENDGRID_BASE_URL", H_CFG_STRING, sendgrid_base_url, "https://api.sendgrid.com", 0,
      0, NULL, false, "base URL of the SendGrid v3 API (POST /v3/mail/send)"),
  OPT("HERALD_SENDGRID_API_KEY", H_CFG_STRING, sendgrid_api_key, "", 0, 0, NULL, true,
      "SendGrid API key (Bearer), required by the sendgrid e-mail provider"),
  OPT("HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY", H_CFG_STRING, sendgrid_webhook_public_key, "", 0, 0,
      NULL, false, "verification key of the signed Event Webhook (base64 DER of an ECDSA P-256"
      " public key, as SendGrid shows it; empty: POST /api/v1/webhooks/email/sendgrid answers"
      " 503)"),
  OPT("HERALD_MAILGUN_BASE_URL", H_CFG_STRING, mailgun_base_url, "https://api.mailgun.net", 0, 0,
      NULL, false, "base URL of the Mailgun API (POST /v3/<domain>/messages)"),
  OPT("HERALD_MAILGUN_DOMAIN", H_CFG_STRING, mailgun_domain, "", 0, 0, NULL, false,
      "Mailgun sending domain, required by the mailgun e-mail provider"),
  OPT("HERALD_MAILGUN_API_KEY", H_CFG_STRING, mailgun_api_key, "", 0, 0, NULL, true,
      "Mailgun API key (Basic auth api:<key>), required by the mailgun e-mail provider"),
  OPT("HERALD_MAILGUN_WEBHOOK_SIGNING_KEY", H_CFG_STRING, mailgun_webhook_signing_key, "", 0, 0,
      NULL, true, "Mailgun webhook signing key: HMAC-SHA256 of timestamp+token (empty:"
      " POST /api/v1/webhooks/email/mailgun answers 503)"),
  OPT("HERALD_PROVIDER_WEBHOOK_TOLERANCE_S", H_CFG_INT, provider_webhook_tolerance_s, "300", 1,
      86400, NULL, false, "largest age (or clock lead) of a signed e-mail or SMS provider"
      " webhook's timestamp"),
  OPT("HERALD_SMS_PROVIDER", H_CFG_ENUM, sms_provider, "file", 0, 0, "file|twilio", false,
      "how herald-sms sends: JSON files in HERALD_SMS_OUTBOX_DIR, or a Twilio-compatible API"),
  OPT("HERALD_SMS_PROVIDERS", H_CFG_STRING, sms_providers, "", 0, 0, NULL, false,
      "ordered SMS providers, comma-separated (file, twilio, vonage; at most 4, e.g."
      " twilio,vonage), failing over like HERALD_EMAIL_PROVIDERS (empty: HERALD_SMS_PROVIDER"
      " alone, no breaker)"),
  OPT("HERALD_SMS_OUTBOX_DIR", H_CFG_STRING, sms_outbox_dir, "var/outbox/sms", 0, 0, NULL, false,
      "folder of the file SMS provider"),
  OPT("HERALD_SMS_BASE_URL", H_CFG_STRING, sms_base_url, "https://api.twilio.com", 0, 0, NULL,
      false, "base URL of the Twilio-compatible SMS API"),
  OPT("HERALD_SMS_ACCOUNT_SID", H_CFG_STRING, sms_account_sid, "", 0, 0, NULL, false,
      "SMS account SID (Basic auth user)"),
  OPT("HERALD_SMS_AUTH_TOKEN", H_CFG_STRING, sms_auth_token, "", 0, 0, NULL, true,
      "SMS auth token: Basic auth password, and the key of status-callback signatures"),
  OPT("HERALD_SMS_FROM", H_CFG_STRING, sms_from, "", 0, 0, NULL, false,
      "sender: an E.164 number, or a messaging service SID (MG...)"),
  OPT("HERALD_SMS_STATUS_CALLBACK_URL", H_CFG_STRING, sms_status_callback_url, "", 0, 0, NULL,
      false, "public URL of POST /api/v1/webhooks/sms/status as the provider calls it (empty: no"
      " callbacks requested; the API then checks signatures against the URL it was called at)"),
  OPT("HERALD_VONAGE_BASE_URL", H_CFG_STRING, vonage_base_url, "https://rest.nexmo.com", 0, 0,
      NULL, false, "base URL of the Vonage SMS API (POST /sms/json)"),
  OPT("HERALD_VONAGE_API_KEY", H_CFG_STRING, vonage_api_key, "", 0, 0, NULL, false,
      "Vonage api_key, required by the vonage SMS provider"),
  OPT("HERALD_VONAGE_API_SECRET", H_CFG_STRING, vonage_api_secret, "", 0, 0, NULL, true,
      "Vonage api_secret, required by the vonage SMS provider"),
  OPT("HERALD_VONAGE_SIGNATURE_SECRET", H_CFG_STRING, vonage_signature_secret, "", 0, 0, NULL,
      true, "key of Vonage's signed callbacks (sig: HMAC-SHA256 of the sorted parameters; empty:"
      " the Vonage receipt and inbound webhooks answer 503)"),
  OPT("HERALD_VONAGE_FROM", H_CFG_STRING, vonage_from, "", 0, 0, NULL, false,
      "Vonage sender: an E.164 number or 1-11 letters and digits (empty: HERALD_SMS_FROM)"),
  OPT("HERALD_VONAGE_STATUS_CALLBACK_URL", H_CFG_STRING, vonage_status_callback_url, "", 0, 0,
      NULL, false, "public URL of POST /api/v1/webhooks/sms/vonage/status sent as the"
      " delivery-receipt callback (empty: the account's default)"),
  OPT("HERALD_SMS_HELP_TEXT", H_CFG_STRING, sms_help_text,
      "Herald alerts: reply STOP to stop text messages, START to resume.", 0, 0, NULL, false,
      "answer to an inbound HELP (1-320 characters)"),
  OPT("HERALD_PUSH_PROVIDER", H_CFG_ENUM, push_provider, "file", 0, 0, "file|fcm", false,
      "how herald-push sends: JSON files in HERALD_PUSH_OUTBOX_DIR, or FCM HTTP v1"),
  OPT("HERALD_PUSH_OUTBOX_DIR", H_CFG_STRING, push_outbox_dir, "var/outbox/push", 0, 0, NULL,
      false, "folder of the file push provider"),
  OPT("HERALD_FCM_BASE_URL", H_CFG_STRING, fcm_base_url, "https://fcm.googleapis.com", 0, 0,
      NULL, false, "base URL of FCM HTTP v1"),
  OPT("HERALD_FCM_CREDENTIALS_FILE", H_CFG_STRING, fcm_credentials_file, "", 0, 0, NULL, false,
      "service-account JSON file (client_email, private_key, token_uri, project_id)"),
  OPT("HERALD_FCM_PROJECT_ID", H_CFG_STRING, fcm_project_id, "", 0, 0, NULL, false,
      "FCM project (empty: project_id of the credentials)"),
  /* Payments: Stripe and money */
  OPT("HERALD_STRIPE_API_BASE", H_CFG_STRING, stripe_api_base, "https://api.stripe.com", 0, 0,
      NULL, false, "base URL of the Stripe API (make run points it at the fake Stripe)"),
  OPT("HERALD_STRIPE_SECRET_KEY", H_CFG_STRING, stripe_secret_key, "", 0, 0, NULL, true,
      "Stripe secret key sk_... (empty: payment endpoints answer 503)"),
  OPT("HERALD_STRIPE_WEBHOOK_SECRET", H_CFG_STRING, stripe_webhook_secret, "", 0, 0, NULL, true,
      "signing secret whsec_... of the Stripe webhook endpoint (empty: webhooks refused)"),
  OPT("HERALD_STRIPE_API_VERSION", H_CFG_STRING, stripe_api_version, "", 0, 0, NULL, false,
      "Stripe-Version header (empty: the account's default version)"),
  OPT("HERALD_STRIPE_CONNECT_TIMEOUT_MS", H_CFG_INT, stripe_connect_timeout_ms, "3000", 100, 60000,
      NULL, false, "connect timeout of Stripe calls"),
  OPT("HERALD_STRIPE_TIMEOUT_MS", H_CFG_INT, stripe_timeout_ms, "10000", 100, 120000, NULL, false,
      "timeout of one Stripe call attempt; a payment whose call timed out stays processing"),
  OPT("HERALD_STRIPE_MAX_RETRIES", H_CFG_INT, stripe_max_retries, "2", 0, 10, NULL, false,
      "retries of a Stripe call after a timeout, 409, 429 or 5xx (same Idempotency-Key)"),
  OPT("HERALD_STRIPE_WEBHOOK_TOLERANCE_S", H_CFG_INT, stripe_webhook_tolerance_s, "300", 1, 3600,
      NULL, false, "largest age (or clock lead) of a webhook signature timestamp"),
  OPT("HERALD_STRIPE_PUBLISHABLE_KEY", H_CFG_STRING, stripe_publishable_key, "", 0, 0, NULL,
      false, "Stripe publishable key pk_... that GET /api/v1/payments/config hands to clients"),
  OPT("HERALD_PAYMENT_DEFAULT_PROVIDER", H_CFG_ENUM, payment_default_provider, "stripe", 0, 0,
      "stripe|mpesa", false, "provider of a POST /api/v1/payments that names none"),
  OPT("HERALD_MPESA_API_BASE", H_CFG_STRING, mpesa_api_base, "https://sandbox.safaricom.co.ke",
      0, 0, NULL, false, "base URL of the M-Pesa Daraja API (make run and tests: the fake)"),
  OPT("HERALD_MPESA_CONSUMER_KEY", H_CFG_STRING, mpesa_consumer_key, "", 0, 0, NULL, true,
      "Daraja app consumer key (empty: M-Pesa payments answer 503)"),
  OPT("HERALD_MPESA_CONSUMER_SECRET", H_CFG_STRING, mpesa_consumer_secret, "", 0, 0, NULL, true,
      "Daraja app consumer secret"),
  OPT("HERALD_MPESA_SHORTCODE", H_CFG_STRING, mpesa_shortcode, "", 0, 0, NULL, false,
      "paybill or till number (BusinessShortCode) that STK pushes pay"),
  OPT("HERALD_MPESA_PASSKEY", H_CFG_STRING, mpesa_passkey, "", 0, 0, NULL, true,
      "Lipa Na M-Pesa Online passkey of the shortcode"),
  OPT("HERALD_MPESA_CALLBACK_BASE_URL", H_CFG_STRING, mpesa_callback_base_url, "", 0, 0, NULL,
      false, "public base URL of this API as Daraja reaches it (https://api.example.com); the"
      " callbacks go to <base>/api/v1/webhooks/mpesa/<HERALD_MPESA_CALLBACK_SECRET>"),
  OPT("HERALD_MPESA_CALLBACK_SECRET", H_CFG_STRING, mpesa_callback_secret, "", 0, 0, NULL, true,
      "secret path segment of the M-Pesa callbacks, 32-128 of [A-Za-z0-9_-] (Daraja does not"
      " sign callbacks; empty: callbacks refused, payments settled by status queries)"),
  OPT("HERALD_MPESA_CALLBACK_ALLOW_IPS", H_CFG_STRING, mpesa_callback_allow_ips, "", 0, 0, NULL,
      false, "comma-separated IPv4 addresses or CIDR blocks M-Pesa callbacks may come from"
      " (empty: any address)"),
  OPT("HERALD_MPESA_INITIATOR", H_CFG_STRING, mpesa_initiator, "", 0, 0, NULL, false,
      "API operator (initiator) name of reversals (empty: M-Pesa refunds refused)"),
  OPT("HERALD_MPESA_SECURITY_CREDENTIAL", H_CFG_STRING, mpesa_security_credential, "", 0, 0,
      NULL, true, "the initiator's password encrypted with the M-Pesa certificate (base64)"),
  OPT("HERALD_MPESA_TIMEOUT_MS", H_CFG_INT, mpesa_timeout_ms, "10000", 100, 120000, NULL, false,
      "timeout of one Daraja call; an STK push whose call timed out stays processing"),
  OPT("HERALD_PAYMENT_MAX_AMOUNT", H_CFG_INT, payment_max_amount, "99999999", 1, 2147483647,
      NULL, false, "largest payment amount in minor units of its currency (400 beyond)"),
  OPT("HERALD_PAYMENT_CURRENCIES", H_CFG_STRING, payment_currencies, "*", 0, 0, NULL, false,
      "comma-separated ISO 4217 codes accepted for payments, * for every known one"),
  OPT("HERALD_PAYMENT_PROVIDER_FEES", H_CFG_STRING, payment_provider_fees,
      "*:290:30,EUR:150:25,GBP:150:20,JPY:360:0,KRW:340:0", 0, 0, NULL, false,
      "provider fee estimate per currency, CUR:basis_points:fixed_minor_units, * for the rest"),
  OPT("HERALD_PAYMENT_PLATFORM_FEES", H_CFG_STRING, payment_platform_fees, "*:100:0", 0, 0, NULL,
      false, "Herald's platform fee per currency, same format (empty: none)"),
  OPT("HERALD_BILLING_MAX_RETRIES", H_CFG_INT, billing_max_retries, "3", 1, 10, NULL, false,
      "failed payment attempts of a subscription invoice (the user is told at each) after"
      " which the subscription is canceled at the provider"),
  /* Notifications: sweeper, fan-out and idempotency */
  OPT("HERALD_SWEEP_INTERVAL_S", H_CFG_INT, sweep_interval_s, "5", 0, 3600, NULL, false,
      "seconds between sweeper passes of the API (delayed-set promotion, re-push of deliveries"
      " Redis lost); 0 disables the sweeper"),
  OPT("HERALD_SWEEP_STALE_S", H_CFG_INT, sweep_stale_s, "60", 1, 86400, NULL, false,
      "a delivery left queued (or overdue scheduled) this long is pushed to Redis again; one"
      " still queued after that waits twice as long before each next push, at most 16 times"
      " this"),
  OPT("HERALD_SWEEP_BATCH", H_CFG_INT, sweep_batch, "500", 1, 10000, NULL, false,
      "rows or ids the sweeper handles per statement"),
  OPT("HERALD_FANOUT_POLL_MS", H_CFG_INT, fanout_poll_ms, "500", 0, 60000, NULL, false,
      "how often the API looks for bulk notifications and announcements to fan out; 0 disables"),
  OPT("HERALD_FANOUT_BATCH", H_CFG_INT, fanout_batch, "100", 1, 5000, NULL, false,
      "recipients per fan-out transaction"),
  OPT("HERALD_IDEMPOTENCY_TTL_S", H_CFG_INT, idempotency_ttl_s, "86400", 86400, 31536000, NULL,
      false, "how long Idempotency-Key outcomes are kept and replayed (at least 24 h)"),
  OPT("HERALD_IDEMPOTENCY_LOCK_S", H_CFG_INT, idempotency_lock_s, "60", 1, 3600, NULL, false,
      "an Idempotency-Key still in flight after this long (its request died) may be retried"),
  /* The notification stream (GET /api/v1/notifications/stream, common/inbox/) */
  OPT("HERALD_STREAM_TICKET_TTL_S", H_CFG_INT, stream_ticket_ttl_s, "60", 5, 3600, NULL, false,
      "lifetime of a single-use stream ticket (POST /api/v1/notifications/stream-tickets)"),
  OPT("HERALD_STREAM_HEARTBEAT_S", H_CFG_INT, stream_heartbeat_s, "20", 1, 3600, NULL, false,
      "seconds between the heartbeat comments of an open stream"),
  OPT("HERALD_STREAM_REPLAY_WINDOW", H_CFG_INT, stream_replay_window, "1000", 1, 100000, NULL,
      false, "most missed events a reconnecting stream is sent; beyond, stream.reset tells the"
      " client to fetch the feed again"),
  OPT("HERALD_STREAM_BUFFER_BYTES", H_CFG_INT, stream_buffer_bytes, "65536", 1024, 16777216,
      NULL, false, "bytes an open stream may hold for a slow client; a client that falls this"
      " far behind is sent stream.overflow and disconnected (it resumes with Last-Event-ID)"),
  OPT("HERALD_STREAM_MAX", H_CFG_INT, stream_max, "20000", 0, 1000000, NULL, false,
      "open streams one API process holds (503 beyond; 0 turns the stream off)"),
  OPT("HERALD_STREAM_SHARDS", H_CFG_INT, stream_shards, "16", 1, 1024, NULL, false,
      "Redis pub/sub channels the stream's change notices are spread over (by user id)"),
  OPT("HERALD_STREAM_AUTH_CHECK_S", H_CFG_INT, stream_auth_check_s, "30", 1, 3600, NULL, false,
      "seconds between the re-checks of every open stream's account and token epoch (a change"
      " made by an API process is seen at once)"),
  /* Group commit of POST /api/v1/notifications (store/group_commit.h) */
  OPT("HERALD_GROUP_COMMIT", H_CFG_BOOL, group_commit, "true", 0, 0, NULL, false,
      "POST /api/v1/notifications writes through the group commit: concurrent requests share"
      " one transaction (one WAL flush), each answered only after its COMMIT"),
  OPT("HERALD_GROUP_COMMIT_MAX_BATCH", H_CFG_INT, group_commit_max_batch, "256", 1, 10000, NULL,
      false, "most notifications written in one group-commit transaction"),
  OPT("HERALD_GROUP_COMMIT_WAIT_US", H_CFG_INT, group_commit_wait_us, "0", 0, 1000000, NULL,
      false, "extra wait (microseconds) for a batch to fill once a request is queued; 0: none,"
      " a batch is what queued up during the previous COMMIT"),
  OPT("HERALD_GROUP_COMMIT_THREADS", H_CFG_INT, group_commit_threads, "1", 1, 64, NULL, false,
      "committer threads, each with its own PostgreSQL connection, beside one preparing"
      " thread with one more (one committer writes the largest batches: requests queue while"
      " its COMMIT waits for the WAL flush)"),
  OPT("HERALD_DB_PREPARED_STATEMENTS", H_CFG_BOOL, db_prepared_statements, "true", 0, 0, NULL,
      false, "every statement prepared once per connection (parsed once, still planned for its"
      " parameters); set false behind PgBouncer before 1.21 in transaction mode, which loses"
      " them between transactions"),
  /* herald-reconcile's housekeeping */
  OPT("HERALD_AUDIT_RETENTION_DAYS", H_CFG_INT, audit_retention_days, "365", 1, 36500, NULL,
      false, "herald-reconcile deletes audit_log rows older than this many days"),
  OPT("HERALD_EVENT_RETENTION_DAYS", H_CFG_INT, event_retention_days, "90", 1, 36500, NULL,
      false, "herald-reconcile deletes delivery_events rows older than this many days"),
  OPT("HERALD_NOTIFICATION_RETENTION_DAYS", H_CFG_INT, notification_retention_days, "365", 0,
      36500, NULL, false, "herald-reconcile deletes notifications (with their deliveries and"
      " events) older than this many days, 1,000 at a time; 0 keeps them"),
  {NULL, H_CFG_STRING, 0, NULL, 0, 0, NULL, false, NULL},
};

const struct h_config_option *h_config_options(void) { return options; }

static char *read_secret_file(const char *path, char **error, const char *env) {
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    *error = h_sprintf("%s_FILE: cannot read '%s': %s", env, path, strerror(errno));
    return NULL;
  }
  char buf[8192];
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
    buf[--n] = '\0';
  }
  return h_strdup(buf);
}

static bool parse_bool(const char *s, bool *out) {
  static const char *yes[] = {"1", "true", "yes", "on"};
  static const char *no[] = {"0", "false", "no", "off"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(s, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  return false;
}

static bool enum_allows(const char *choices, const char *value) {
  size_t len = strlen(value);
  const char *p = choices;
  while (*p != '\0') {
    const char *end = strchr(p, '|');
    size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
    if (n == len && strncmp(p, value, n) == 0) {
      return true;
    }
    p += n + (end != NULL ? 1 : 0);
  }
  return false;
}

/* Stores one value into cfg; returns a message the caller frees, or NULL when valid. */
static char *set_option(struct h_config *cfg, const struct h_config_option *o, char *value) {
  void *field = (char *)cfg + o->offset;
  switch (o->type) {
  case H_CFG_STRING:
    *(char **)field = value;
    return NULL;
  case H_CFG_ENUM:
    if (!enum_allows(o->choices, value)) {
      char *msg = h_sprintf("%s: '%s' is not one of %s", o->env, value, o->choices);
      free(value);
      return msg;
    }
    *(char **)field = value;
    return NULL;
  case H_CFG_BOOL: {
    bool b = false;
    char *msg = parse_bool(value, &b)
                    ? NULL
                    : h_sprintf("%s: '%s' is not a boolean (true/false)", o->env, value);
    *(bool *)field = b;
    free(value);
    return msg;
  }
  case H_CFG_INT: {
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    char *msg = NULL;
    if (value[0] == '\0' || isspace((unsigned char)value[0]) || *end != '\0' || errno != 0) {
      msg = h_sprintf("%s: '%s' is not an integer", o->env, value);
    } else if (v < o->min || v > o->max) {
      msg = h_sprintf("%s: %ld is out of range %ld..%ld", o->env, v, o->min, o->max);
    } else {
      *(int *)field = (int)v;
    }
    free(value);
    return msg;
  }
  }
  free(value);
  return h_sprintf("%s: unknown option type", o->env);
}

char *h_config_list_check(const char *env, const char *value, const char *choices, int max) {
  char seen[512] = "|";
  int n = 0;
  const char *p = value;
  while (*p != '\0') {
    size_t len = strcspn(p, ",");
    char name[64];
    if (len == 0 || len >= sizeof(name)) {
      return h_sprintf("%s: '%s' has an empty or overlong entry", env, value);
    }
    snprintf(name, sizeof(name), "%.*s", (int)len, p);
    char marked[80];
    snprintf(marked, sizeof(marked), "|%s|", name);
    if (!enum_allows(choices, name)) {
      return h_sprintf("%s: '%s' is not one of %s", env, name, choices);
    }
    if (strstr(seen, marked) != NULL) {
      return h_sprintf("%s: '%s' is listed twice", env, name);
    }
    if (++n > max) {
      return h_sprintf("%s: at most %d entries", env, max);
    }
    snprintf(seen + strlen(seen), sizeof(seen) - strlen(seen), "%s|", name);
    p += len;
    if (*p == ',' && *++p == '\0') {
      return h_sprintf("%s: '%s' ends with a comma", env, value);
    }
  }
  return NULL;
}

/* 1-64 bytes of UTF-8 text without control characters. Pure. */
static bool product_name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) {
    return false;
  }
  for (size_t i = 0; i < n; i++) {
    if ((unsigned char)s[i] < 32 || s[i] == 127) {
      return false;
    }
  }
  return true;
}

/* The M-Pesa options: a callback secret of 32-128 of [A-Za-z0-9_-] (it is a URL path
 * segment and the only thing keeping forged callbacks out) and an allow-list of IPv4
 * addresses or blocks. NULL, or a new message naming the variable. */
static char *mpesa_config_check(const struct h_config *cfg) {
  const char *s = cfg->mpesa_callback_secret;
  size_t n = strlen(s);
  bool ok = n == 0 || (n >= 32 && n <= 128);
  for (size_t i = 0; ok && i < n; i++) {
    ok = isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '-';
  }
  if (!ok) {
    return h_sprintf("HERALD_MPESA_CALLBACK_SECRET: must be 32-128 of A-Z a-z 0-9 _ -");
  }
  char *bad = h_forwarded_config_check(cfg->mpesa_callback_allow_ips);
  if (bad != NULL) {
    free(bad);
    return h_sprintf("HERALD_MPESA_CALLBACK_ALLOW_IPS: must be IPv4 addresses or a.b.c.d/bits,"
                     " separated by commas");
  }
  return NULL;
}

/* True when path is absolute and names a folder (HERALD_DEMO_DIR). */
static bool demo_dir_ok(const char *path) {
  struct stat st;
  return path[0] == '/' && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int h_config_auto_http_threads(long cpus) {
  long threads = cpus > 0 ? 2 * cpus : 0;
  return (int)(threads < H_HTTP_THREADS_AUTO_MIN   ? H_HTTP_THREADS_AUTO_MIN
               : threads > H_HTTP_THREADS_AUTO_MAX ? H_HTTP_THREADS_AUTO_MAX
                                                   : threads);
}

/* The rules between variables, once each has a valid value: NULL, or a new message
 * naming the variable to fix. */
static char *cross_check(const struct h_config *cfg) {
  if (cfg->http_threads == 1) {
    return h_sprintf("HERALD_HTTP_THREADS: out of range: 1 (libmicrohttpd's pool of one thread"
                     " stalls, see DESIGN.md; 0: automatic, or 2 to 1024)");
  }
  if (strcmp(cfg->jwt_alg, "RS256") == 0 &&
      (cfg->jwt_private_key_file[0] == '\0' || cfg->jwt_public_key_file[0] == '\0')) {
    return h_sprintf("HERALD_JWT_PRIVATE_KEY_FILE: RS256 needs it and HERALD_JWT_PUBLIC_KEY_FILE");
  }
  if (cfg->jwt_previous_secret[0] != '\0' && cfg->jwt_previous_key_id[0] == '\0') {
    return h_sprintf("HERALD_JWT_PREVIOUS_KEY_ID: required with HERALD_JWT_PREVIOUS_SECRET");
  }
  if (cfg->jwt_secret[0] != '\0' && strlen(cfg->jwt_secret) < 32) {
    return h_sprintf("HERALD_JWT_SECRET: must be at least 32 bytes");
  }
  if (cfg->unsubscribe_secret[0] != '\0' && strlen(cfg->unsubscribe_secret) < 32) {
    return h_sprintf("HERALD_UNSUBSCRIBE_SECRET: must be at least 32 bytes");
  }
  if (cfg->demo_dir[0] != '\0' && !demo_dir_ok(cfg->demo_dir)) {
    return h_sprintf("HERALD_DEMO_DIR: must be the absolute path of an existing folder");
  }
  if (!product_name_ok(cfg->product_name)) {
    return h_sprintf("HERALD_PRODUCT_NAME: must be 1-64 characters, no control characters");
  }
  if (cfg->smtp_user[0] != '\0' && strcmp(cfg->smtp_tls, "none") == 0 &&
      !cfg->smtp_plaintext_auth) {
    return h_sprintf("HERALD_SMTP_TLS: SMTP AUTH (HERALD_SMTP_USER) would send the password in"
                     " clear; use starttls or tls, or set HERALD_SMTP_PLAINTEXT_AUTH=true for a"
                     " trusted local relay");
  }
  char *error = h_config_list_check("HERALD_EMAIL_PROVIDERS", cfg->email_providers,
                                    "file|smtp|sendgrid|mailgun", 4);
  if (error == NULL) {
    error = h_config_list_check("HERALD_SMS_PROVIDERS", cfg->sms_providers, "file|twilio|vonage",
                                4);
  }
  if (error == NULL && (cfg->sms_help_text[0] == '\0' || strlen(cfg->sms_help_text) > 320)) {
    error = h_sprintf("HERALD_SMS_HELP_TEXT: must be 1-320 characters");
  }
  if (error == NULL) {
    error = h_sentinel_config_check(cfg->redis_sentinels, cfg->redis_master_name);
  }
  if (error == NULL) {
    error = h_forwarded_config_check(cfg->trusted_proxies);
  }
  if (error == NULL) {
    error = mpesa_config_check(cfg);
  }
  if (error == NULL) {
    struct h_flood_rules flood;
    h_flood_parse(cfg, &flood, &error); /* memsets flood first */
    h_flood_free(&flood);
  }
  struct h_net_allow allow;
  char *nets_error = NULL;
  if (error == NULL && h_net_allow_parse(cfg->webhook_allow_nets, &allow, &nets_error) == H_OK) {
    h_net_allow_free(&allow);
  } else if (error == NULL) {
    error = h_sprintf("HERALD_WEBHOOK_ALLOW_NETS: %s", nets_error);
  }
  free(nets_error);
  if (error == NULL) {
    error = h_money_config_check(cfg->payment_currencies, cfg->payment_provider_fees,
                                 cfg->payment_platform_fees);
  }
  return error;
}

h_result h_config_load(struct h_config *cfg, char **error) {
  memset(cfg, 0, sizeof(*cfg));
  *error = NULL;
  for (const struct h_config_option *o = options; o->env != NULL; o++) {
    const char *raw = getenv(o->env);
    char *value = NULL;
    if (o->secret && (raw == NULL || raw[0] == '\0')) {
      char file_env[128];
      snprintf(file_env, sizeof(file_env), "%s_FILE", o->env);
      const char *path = getenv(file_env);
      if (path != NULL && path[0] != '\0') {
        value = read_secret_file(path, error, o->env);
        if (value == NULL) {
          h_config_free(cfg);
          return H_ERR_INVALID;
        }
      }
    }
    if (value == NULL) {
      value = h_strdup(raw != NULL ? raw : o->default_value);
    }
    *error = set_option(cfg, o, value);
    if (*error != NULL) {
      h_config_free(cfg);
      return H_ERR_INVALID;
    }
  }
  if (cfg->http_threads == 0) {
    cfg->http_threads = h_config_auto_http_threads(sysconf(_SC_NPROCESSORS_ONLN));
  }
  if (cfg->db_pool_size == 0) {
    int threads = cfg->http_threads + cfg->http_offload_threads;
    cfg->db_pool_size = threads < H_DB_POOL_DEFAULT_MAX ? threads : H_DB_POOL_DEFAULT_MAX;
  }
  *error = cross_check(cfg);
  if (*error != NULL) {
    h_config_free(cfg);
    return H_ERR_INVALID;
  }
  return H_OK;
}

void h_config_free(struct h_config *cfg) {
  for (const struct h_config_option *o = options; o->env != NULL; o++) {
    if (o->type == H_CFG_STRING || o->type == H_CFG_ENUM) {
      char **field = (char **)((char *)cfg + o->offset);
      free(*field);
      *field = NULL;
    }
  }
}

void h_config_print_markdown(FILE *out) {
  fprintf(out, "| variable | default | description |\n|---|---|---|\n");
  for (const struct h_config_option *o = options; o->env != NULL; o++) {
    const char *def = o->default_value[0] != '\0' ? o->default_value : "(empty)";
    fprintf(out, "| `%s` | `%s` | %s", o->env, def, o->description);
    if (o->type == H_CFG_INT) {
      fprintf(out, " (%ld..%ld)", o->min, o->max);
    } else if (o->type == H_CFG_ENUM) {
      fprintf(out, " (%s)", o->choices);
    } else if (o->type == H_CFG_BOOL) {
      fprintf(out, " (true/false)");
    }
    if (o->secret) {
      fprintf(out, "; secret: also read from the file named by `%s_FILE`", o->env);
    }
    fprintf(out, " |\n");
  }
}
