/* email.h - herald-email: its provider factory, the message it sends, and what the
 * providers share (email.c: file and smtp; email_api.c: sendgrid and mailgun). */
#ifndef HERALD_EMAIL_H
#define HERALD_EMAIL_H

#include "worker.h"

/* One provider's settings (each provider of the set has its own copy). */
struct email_shared {
  const struct h_config *cfg;    /* borrowed */
  char *from;                    /* encoded From header value, owned */
  char from_name[256];
  char from_addr[256];
  const char *domain;            /* points into from_addr */
  char *reply_to;                /* encoded Reply-To or NULL, owned */
  char reply_name[256];
  char reply_addr[256];          /* "" when none */
  char smtp_url[320];
  char *api_url;                 /* the HTTP API's send URL (sendgrid, mailgun), owned */
};

/* The providers of HERALD_EMAIL_PROVIDERS, else HERALD_EMAIL_PROVIDER; see struct
 * h_worker_def. */
h_result h_email_create(const struct h_config *cfg, struct h_provider_set *set, char **error);

/* The complete message for job (shared: one of the set h_email_create made). New string
 * the caller frees. */
char *h_email_render(const void *shared, const struct h_job *job, const char *boundary);

/* --dry-run's one-line summary of job (new string the caller frees), and the destroy of
 * every e-mail provider's shared state. */
char *h_email_summary(void *shared, const struct h_job *job);
void h_email_destroy(void *shared);

/* What the HTTP APIs send as fields instead of a MIME message. */
struct h_email_parts {
  const char *subject;           /* borrowed from the job */
  const char *text;              /* borrowed, may be NULL */
  const char *html;              /* the job's HTML or html_owned */
  char *html_owned;              /* the text as HTML when the job has none, owned */
  char *unsubscribe;             /* List-Unsubscribe URL or NULL, owned */
  bool one_click;                /* unsubscribe is the RFC 8058 one-click link */
};
void h_email_parts(const struct email_shared *sh, const struct h_job *job,
                   struct h_email_parts *out);
void h_email_parts_free(struct h_email_parts *p);

/* Checks the recipient; false (with out filled: skipped or permanent) when there is
 * nothing to send. */
bool h_email_recipient_ok(const struct h_job *job, struct h_send_result *out);

/* The HTTP API providers (email_api.c). setup checks the provider's settings into sh:
 * H_ERR_INVALID with *error naming the variable (caller frees). */
extern const struct h_provider h_email_sendgrid;
extern const struct h_provider h_email_mailgun;
h_result h_email_api_setup(const struct h_provider *p, const struct h_config *cfg,
                           struct email_shared *sh, char **error);

#endif
