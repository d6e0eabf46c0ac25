/* mpesa.c - the Daraja calls: token, STK push, STK query, reversal. */
#include "payments/mpesa/mpesa.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "net/http_client.h"

/* The one cached token of this process, for one (api_base, consumer_key). */
static struct {
  pthread_mutex_t lock;
  char owner[512];
  char token[256];
  time_t expires;
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

void h_mpesa_token_reset(void) {
  pthread_mutex_lock(&cache.lock);
  cache.owner[0] = '\0';
  cache.token[0] = '\0';
  cache.expires = 0;
  pthread_mutex_unlock(&cache.lock);
}

bool h_mpesa_msisdn(const char *e164, char out[13]) {
  out[0] = '\0';
  if (e164 == NULL || strlen(e164) != 13 || strncmp(e164, "+254", 4) != 0 ||
      (e164[4] != '7' && e164[4] != '1')) {
    return false;
  }
  for (size_t i = 1; i < 13; i++) {
    if (!isdigit((unsigned char)e164[i])) {
      return false;
    }
  }
  memcpy(out, e164 + 1, 13);
  return true;
}

void h_mpesa_timestamp(time_t t, char out[15]) {
  time_t eat = t + 3 * 3600; /* Africa/Nairobi: UTC+3, no daylight saving */
  struct tm tm;
  gmtime_r(&eat, &tm);
  strftime(out, 15, "%Y%m%d%H%M%S", &tm);
}

/* The result of an answer's HTTP status (0: transport failure, timed_out tells which). */
static h_result map_status(long status, h_result transport) {
  if (status == 0) {
    return transport;
  }
  if (status >= 200 && status < 300) {
    return H_OK;
  }
  if (status == 400) {
    return H_ERR_INVALID;
  }
  if (status == 404) {
    return H_ERR_NOT_FOUND;
  }
  return status == 429 ? H_ERR_RATE_LIMITED : H_ERR_UNAVAILABLE;
}

/* Fetches a new token into cache (the lock held). */
static h_result token_fetch(const struct h_mpesa_config *cfg, const char *owner) {
  char *url = h_sprintf("%s/oauth/v1/generate?grant_type=client_credentials", cfg->api_base);
  struct h_http_request rq = {.method = "GET", .url = url, .basic_user = cfg->consumer_key,
                              .basic_password = cfg->consumer_secret,
                              .user_agent = "Herald/0.1 (libcurl)",
                              .timeout_ms = cfg->timeout_ms};
  struct h_http_response resp = {0};
  h_result r = h_http_send(h_http_thread(), &rq, &resp);
  r = r == H_OK ? map_status(resp.status, r) : r;
  json_t *body = r == H_OK ? json_loads(resp.body, 0, NULL) : NULL;
  const char *token = json_string_value(json_object_get(body, "access_token"));
  const json_t *exp = json_object_get(body, "expires_in"); /* Daraja sends it as text */
  long long ttl = json_is_string(exp) ? atoll(json_string_value(exp)) : json_integer_value(exp);
  if (r == H_OK && (token == NULL || strlen(token) >= sizeof(cache.token) || ttl <= 0)) {
    r = H_ERR_UNAVAILABLE;
  }
  if (r == H_OK) {
    snprintf(cache.token, sizeof(cache.token), "%s", token);
    snprintf(cache.owner, sizeof(cache.owner), "%s", owner);
    cache.expires = time(NULL) + (time_t)(ttl > 120 ? ttl - 60 : ttl / 2);
  } else {
    h_log(H_LOG_WARNING, NULL, cfg->request_id, "h_mpesa: token: %s (HTTP %ld)",
          h_result_name(r), resp.status);
  }
  json_decref(body);
  h_http_response_free(&resp);
  free(url);
  return r;
}

/* Copies a valid token into out, fetching one when none is cached or fresh says so. */
static h_result token_get(const struct h_mpesa_config *cfg, bool fresh, char out[256]) {
  char owner[512];
  snprintf(owner, sizeof(owner), "%s|%s", cfg->api_base, cfg->consumer_key);
  pthread_mutex_lock(&cache.lock);
  h_result r = H_OK;
  if (fresh || strcmp(cache.owner, owner) != 0 || time(NULL) >= cache.expires) {
    r = token_fetch(cfg, owner);
  }
  snprintf(out, 256, "%s", r == H_OK ? cache.token : "");
  pthread_mutex_unlock(&cache.lock);
  return r;
}

/* Copies a string (or a number, as text) member of obj into out. */
static void copy_text(const json_t *obj, const char *name, char *out, size_t len) {
  const json_t *v = json_object_get(obj, name);
  if (json_is_integer(v)) {
    snprintf(out, len, "%lld", (long long)json_integer_value(v));
  } else if (json_is_string(v)) {
    snprintf(out, len, "%s", json_string_value(v));
  }
}

/* Reads what Daraja answered into out. */
static void read_answer(const char *text, struct h_mpesa_answer *out) {
  json_t *b = json_loads(text != NULL ? text : "", 0, NULL);
  copy_text(b, "CheckoutRequestID", out->checkout_id, sizeof(out->checkout_id));
  copy_text(b, "ConversationID", out->conversation_id, sizeof(out->conversation_id));
  copy_text(b, json_object_get(b, "errorCode") != NULL ? "errorCode" : "ResponseCode",
            out->code, sizeof(out->code));
  copy_text(b, json_object_get(b, "ResultDesc") != NULL     ? "ResultDesc"
               : json_object_get(b, "errorMessage") != NULL ? "errorMessage"
                                                            : "ResponseDescription",
            out->message, sizeof(out->message));
  char rc[16] = "";
  copy_text(b, "ResultCode", rc, sizeof(rc));
  out->result_code = rc[0] != '\0' ? atoi(rc) : -1;
  json_decref(b);
}

/* POSTs body (borrowed) to path with a token; one more time with a new token after a 401. */
static h_result post(const struct h_mpesa_config *cfg, const char *path, const json_t *body,
                     struct h_mpesa_answer *out) {
  memset(out, 0, sizeof(*out));
  out->result_code = -1;
  char *url = h_sprintf("%s%s", cfg->api_base, path);
  char *text = json_dumps(body, JSON_COMPACT);
  h_result r = H_ERR_UNAVAILABLE;
  for (int attempt = 0; attempt < 2; attempt++) {
    char token[256], auth[300];
    r = token_get(cfg, attempt > 0, token);
    if (r != H_OK) {
      break;
    }
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    const char *headers[] = {auth, "Content-Type: application/json",
                             "Accept: application/json", NULL};
    struct h_http_request rq = {.method = "POST", .url = url, .headers = headers, .body = text,
                                .body_len = strlen(text), .user_agent = "Herald/0.1 (libcurl)",
                                .timeout_ms = cfg->timeout_ms};
    struct h_http_response resp = {0};
    r = h_http_send(h_http_thread(), &rq, &resp);
    out->status = resp.status;
    read_answer(resp.body, out);
    h_http_response_free(&resp);
    r = r == H_OK ? map_status(out->status, r) : r;
    if (out->status != 401) {
      break;
    }
  }
  if (r == H_OK && strcmp(out->code, "0") != 0) {
    r = H_ERR_INVALID; /* accepted over HTTP, refused by M-Pesa */
  }
  free(text);
  free(url);
  return r;
}

/* The STK password: base64(shortcode + passkey + timestamp), in a new string. */
static char *stk_password(const struct h_mpesa_config *cfg, const char *ts) {
  char *plain = h_sprintf("%s%s%s", cfg->shortcode, cfg->passkey, ts);
  size_t n = strlen(plain);
  char *out = h_malloc(4 * ((n + 2) / 3) + 1);
  EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)plain, (int)n);
  OPENSSL_cleanse(plain, n);
  free(plain);
  return out;
}

h_result h_mpesa_stk_push(const struct h_mpesa_config *cfg, const char *phone, long long amount,
                          const char *reference, const char *description,
                          struct h_mpesa_answer *out) {
  char ts[15];
  h_mpesa_timestamp(time(NULL), ts);
  char *password = stk_password(cfg, ts);
  json_t *body = json_pack("{sssssssssIssssssssssss}", "BusinessShortCode", cfg->shortcode,
                           "Password", password, "Timestamp", ts, "TransactionType",
                           "CustomerPayBillOnline", "Amount", (json_int_t)amount, "PartyA",
                           phone, "PartyB", cfg->shortcode, "PhoneNumber", phone,
                           "CallBackURL", cfg->callback_url, "AccountReference", reference,
                           "TransactionDesc", description);
  h_result r = post(cfg, "/mpesa/stkpush/v1/processrequest", body, out);
  json_decref(body);
  free(password);
  return r;
}

h_result h_mpesa_stk_query(const struct h_mpesa_config *cfg, const char *checkout_id,
                           struct h_mpesa_answer *out) {
  char ts[15];
  h_mpesa_timestamp(time(NULL), ts);
  char *password = stk_password(cfg, ts);
  json_t *body = json_pack("{ssssssss}", "BusinessShortCode", cfg->shortcode, "Password",
                           password, "Timestamp", ts, "CheckoutRequestID", checkout_id);
  h_result r = post(cfg, "/mpesa/stkpushquery/v1/query", body, out);
  json_decref(body);
  free(password);
  if (out->status == 500 && strcmp(out->code, "500.001.1001") == 0) {
    out->result_code = -1; /* the payer has not answered yet */
    return H_OK;
  }
  return r;
}

h_result h_mpesa_reversal(const struct h_mpesa_config *cfg, const char *transaction,
                          long long amount, const char *remarks, struct h_mpesa_answer *out) {
  json_t *body = json_pack(
      "{sssssssssIssssssssssss}", "Initiator", cfg->initiator, "SecurityCredential",
      cfg->security_credential, "CommandID", "TransactionReversal", "TransactionID", transaction,
      "Amount", (json_int_t)amount, "ReceiverParty", cfg->shortcode, "RecieverIdentifierType",
      "11", "ResultURL", cfg->result_url, "QueueTimeOutURL", cfg->result_url, "Remarks", remarks,
      "Occasion", "refund");
  h_result r = post(cfg, "/mpesa/reversal/v1/request", body, out);
  json_decref(body);
  return r;
}
