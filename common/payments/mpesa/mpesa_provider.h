/* mpesa_provider.h - the payment provider interface (payments/payment_provider.h) over
 * M-Pesa Daraja (payments/mpesa/mpesa.h): a payment is one STK push (KES, whole shillings,
 * to the payer's number), fetched by the STK status query; a refund is a transaction
 * reversal whose result arrives by callback. M-Pesa has no customers, saved methods,
 * confirmation step, cancellation or lists: those operations are NULL or refuse. */
#ifndef HERALD_MPESA_PROVIDER_H
#define HERALD_MPESA_PROVIDER_H

#include <stdbool.h>

#include "core/config.h"
#include "payments/payment_provider.h"

/* Fills p with M-Pesa (state: cfg, borrowed); false when the consumer key and secret, the
 * shortcode, the passkey or the callback base URL and secret are missing. */
bool h_mpesa_provider_init(struct h_provider *p, const struct h_config *cfg,
                           const char *request_id);

/* Pure: the Herald status of an STK push ResultCode (-1: not answered yet) into status
 * (32 bytes), with the cancellation reason (40 bytes, "" unless canceled). */
void h_mpesa_result_status(int result_code, char *status, char *cancellation_reason);

#endif
