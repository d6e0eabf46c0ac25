/* mpesa.h - a small M-Pesa Daraja client over the shared HTTP client: the OAuth
 * client-credentials token (cached per process until shortly before it expires), STK push
 * (Lipa Na M-Pesa Online), the STK push status query and transaction reversals.
 *
 * Requests and answers are JSON; every call carries "Authorization: Bearer <token>"; a 401
 * drops the cached token and the call is made once more with a new one. Results:
 *   2xx with ResponseCode "0" -> H_OK; 400 or a ResponseCode other than "0" ->
 *   H_ERR_INVALID; 404 -> H_ERR_NOT_FOUND; 429 -> H_ERR_RATE_LIMITED; a timeout ->
 *   H_ERR_TIMEOUT; 401/403 (our credentials), other 5xx and transport errors ->
 *   H_ERR_UNAVAILABLE. The STK query's "being processed" answer (500, errorCode
 *   500.001.1001) is H_OK with result_code -1: the payer has not answered yet.
 * Secrets (consumer secret, passkey, security credential, token) are never logged. */
#ifndef HERALD_MPESA_H
#define HERALD_MPESA_H

#include <stdbool.h>
#include <time.h>

#include "core/result.h"

struct h_mpesa_config {
  const char *api_base;            /* "https://api.safaricom.co.ke"; borrowed, like the rest */
  const char *consumer_key;
  const char *consumer_secret;
  const char *shortcode;           /* BusinessShortCode and PartyB */
  const char *passkey;
  const char *callback_url;        /* STK push CallBackURL */
  const char *result_url;          /* reversal ResultURL and QueueTimeOutURL */
  const char *initiator;
  const char *security_credential;
  long timeout_ms;
  const char *request_id;          /* ours, for log lines; may be NULL */
};

/* What Daraja answered, as text ("" for what it left out). */
struct h_mpesa_answer {
  long status;                /* HTTP status, 0 when nothing answered */
  char checkout_id[128];      /* CheckoutRequestID (push, query) */
  char conversation_id[128];  /* ConversationID (reversal) */
  int result_code;            /* query: ResultCode, -1 while the payer has not answered */
  char code[64];              /* ResponseCode or errorCode */
  char message[256];          /* ResponseDescription / ResultDesc / errorMessage */
};

/* Sends an STK push of amount whole shillings to phone (2547XXXXXXXX) with reference (at
 * most 12 characters shown on the phone). */
h_result h_mpesa_stk_push(const struct h_mpesa_config *cfg, const char *phone, long long amount,
                          const char *reference, const char *description,
                          struct h_mpesa_answer *out);

/* Asks for the outcome of the STK push checkout_id. */
h_result h_mpesa_stk_query(const struct h_mpesa_config *cfg, const char *checkout_id,
                           struct h_mpesa_answer *out);

/* Asks for the reversal of transaction (an M-Pesa receipt number) for amount shillings;
 * the result is POSTed to cfg->result_url later. */
h_result h_mpesa_reversal(const struct h_mpesa_config *cfg, const char *transaction,
                          long long amount, const char *remarks, struct h_mpesa_answer *out);

/* Writes into out (2547XXXXXXXX, 12 digits and NUL) the M-Pesa form of an E.164 Kenyan
 * mobile number (+2547XXXXXXXX or +2541XXXXXXXX); false for anything else. Pure. */
bool h_mpesa_msisdn(const char *e164, char out[13]);

/* The Daraja timestamp (YYYYMMDDHHMMSS, East Africa Time) of t. Pure. */
void h_mpesa_timestamp(time_t t, char out[15]);

/* Forgets the cached tokens (tests). */
void h_mpesa_token_reset(void);

#endif
