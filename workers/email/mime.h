/* mime.h - Internet messages (RFC 5322 + MIME): UTF-8 headers as RFC 2047
 * encoded-words, bodies in quoted-printable, multipart/alternative when there is
 * an HTML part. Pure functions, unit-tested; every line ends in CRLF. */
#ifndef HERALD_MIME_H
#define HERALD_MIME_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct h_mime_message {
  const char *from;               /* a mailbox header value, already encoded (h_mime_mailbox) */
  const char *reply_to;           /* the same, or NULL */
  const char *to_addr;            /* addr-spec */
  const char *to_name;            /* display name (UTF-8) or NULL */
  const char *subject;            /* UTF-8 */
  const char *text;               /* UTF-8 plain text, NULL for none */
  const char *html;               /* UTF-8 HTML, NULL for a text-only message */
  const char *message_id;         /* without the angle brackets */
  time_t date;
  const char *list_unsubscribe;   /* URL, or NULL for transactional mail */
  bool list_unsubscribe_one_click; /* it accepts RFC 8058 POSTs: List-Unsubscribe-Post too */
  const char *const *extra_headers; /* NULL-terminated "Name: value" (ASCII) or NULL */
  const char *boundary;           /* multipart boundary (must not occur in QP output) */
};

/* The whole message. New string the caller frees. */
char *h_mime_build(const struct h_mime_message *m);

/* An unstructured header value (e.g. a Subject) ready to follow "Name: " of
 * prefix_len characters: folded plain ASCII when it can be, RFC 2047 "B"
 * encoded-words (whole UTF-8 characters, lines <= 78) otherwise. Control
 * characters become spaces. New string the caller frees. */
char *h_mime_header_value(const char *utf8, size_t prefix_len);

/* "Name <addr>" with the display name quoted or encoded as needed, or "addr"
 * when name is NULL or empty. New string the caller frees. */
char *h_mime_mailbox(const char *name, const char *addr);

/* Splits "Name <addr>" or "addr" into its parts; false when there is no
 * plausible address (no '@', spaces, CR/LF or angle brackets inside it). */
bool h_mime_parse_mailbox(const char *spec, char *name, size_t namelen, char *addr,
                          size_t addrlen);

/* True when addr is a plausible addr-spec safe to put in a header and in SMTP. */
bool h_mime_address_ok(const char *addr);

/* Quoted-printable of text with CRLF line ends and lines of at most 76 chars.
 * New string the caller frees. */
char *h_mime_qp(const char *text);

/* RFC 5322 date of t in UTC: "Thu, 01 Jan 2026 12:00:00 +0000". */
void h_mime_date(time_t t, char out[40]);

#endif
