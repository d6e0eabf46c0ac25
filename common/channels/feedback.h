/* feedback.h - what providers tell Herald about recipients, turned into rules: an e-mail
 * address reported bounced, complained about or dropped is suppressed (herald-email skips
 * it: reason email_undeliverable); an inbound SMS keyword sets the sender's SMS preference
 * (STOP off, START on) or asks for help. Each report is one transaction with its audit
 * rows. Every pointer taken is borrowed. */
#ifndef HERALD_FEEDBACK_H
#define HERALD_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>

#include "app/app.h"
#include "audit/audit.h"
#include "core/result.h"

/* One address an e-mail provider found undeliverable. */
struct h_email_report {
  const char *email;
  const char *reason;   /* bounce, complaint, dropped */
  const char *event_id; /* the provider's id of the event, may be NULL */
  const char *detail;   /* the provider's words (e.g. "550 5.1.1 no such user"), may be NULL */
};

/* Suppresses every reported address (provider: "sendgrid", "mailgun"); *suppressed
 * receives how many were not suppressed before. */
h_result h_feedback_email(struct h_app *app, const struct h_actor *actor, const char *provider,
                          const struct h_email_report *reports, size_t n, size_t *suppressed);

enum h_sms_keyword { H_SMS_KEYWORD_NONE, H_SMS_KEYWORD_STOP, H_SMS_KEYWORD_START,
                     H_SMS_KEYWORD_HELP };

/* The keyword of an inbound text: its first word, any case, surrounding blanks and
 * punctuation ignored (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT: stop; START, YES,
 * UNSTOP: start; HELP, INFO: help). Pure. */
enum h_sms_keyword h_sms_keyword_parse(const char *text);

/* Applies kw sent from phone (E.164) through provider: STOP/START set the SMS channel of
 * every account with that phone; HELP with send_help queues the help text
 * (HERALD_SMS_HELP_TEXT) as a critical SMS to the oldest such account (providers that
 * cannot answer in their webhook's reply). *users receives how many accounts it concerned. */
h_result h_feedback_sms_keyword(struct h_app *app, const struct h_actor *actor,
                                const char *provider, const char *phone, enum h_sms_keyword kw,
                                bool send_help, size_t *users);

#endif
