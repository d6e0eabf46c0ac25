/* mime.c - message building: encoded-words, quoted-printable, multipart. */
#include "mime.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define WORD_BYTES 39 /* input bytes per encoded-word: 52 base64 chars, 64-char word */

static bool plain_ascii(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
    if (*p < 32 || *p > 126) {
      return false;
    }
  }
  return strstr(s, "=?") == NULL; /* text that looks like an encoded-word must be encoded */
}

/* A copy of s with control characters (CR, LF, TAB...) replaced by spaces. */
static char *sanitize(const char *s) {
  char *out = h_strdup(s != NULL ? s : "");
  for (unsigned char *p = (unsigned char *)out; *p != '\0'; p++) {
    if (*p < 32 || *p == 127) {
      *p = ' ';
    }
  }
  return out;
}

/* Folds plain ASCII at spaces so lines stay within 78 characters. */
static void fold_ascii(FILE *f, const char *s, size_t used) {
  size_t col = used;
  while (*s != '\0') {
    size_t word = strcspn(s + 1, " ") + 1; /* a leading space belongs to the word */
    if (col + word > 78 && col > used && *s == ' ') {
      fputs("\r\n", f);
      col = 0;
    }
    fwrite(s, 1, word, f);
    col += word;
    s += word;
  }
}

/* The length of the longest prefix of s (at most max bytes) that ends on a UTF-8
 * character boundary. */
static size_t utf8_cut(const unsigned char *s, size_t len, size_t max) {
  if (len <= max) {
    return len;
  }
  size_t n = max;
  while (n > 0 && (s[n] & 0xC0) == 0x80) {
    n--;
  }
  return n > 0 ? n : max;
}

static void encoded_words(FILE *f, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t len = strlen(s);
  bool first = true;
  while (len > 0) {
    size_t n = utf8_cut(p, len, WORD_BYTES);
    unsigned char b64[4 * ((WORD_BYTES + 2) / 3) + 1];
    EVP_EncodeBlock(b64, p, (int)n);
    fprintf(f, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", b64);
    first = false;
    p += n;
    len -= n;
  }
}

char *h_mime_header_value(const char *utf8, size_t prefix_len) {
  char *clean = sanitize(utf8);
  char *out = NULL;
  size_t outlen = 0;
  FILE *f = open_memstream(&out, &outlen);
  if (plain_ascii(clean)) {
    fold_ascii(f, clean, prefix_len);
  } else {
    encoded_words(f, clean);
  }
  fclose(f);
  free(clean);
  return out;
}

bool h_mime_address_ok(const char *addr) {
  const char *at = addr != NULL ? strrchr(addr, '@') : NULL;
  if (at == NULL || at == addr || at[1] == '\0' || strlen(addr) > 254) {
    return false;
  }
  for (const unsigned char *p = (const unsigned char *)addr; *p != '\0'; p++) {
    if (*p <= 32 || *p >= 127 || strchr("<>()[]\\,;:\"", *p) != NULL) {
      return false;
    }
  }
  return true;
}

bool h_mime_parse_mailbox(const char *spec, char *name, size_t namelen, char *addr,
                          size_t addrlen) {
  name[0] = addr[0] = '\0';
  const char *lt = strchr(spec, '<');
  const char *gt = lt != NULL ? strchr(lt, '>') : NULL;
  if (lt == NULL) {
    snprintf(addr, addrlen, "%s", spec);
    return h_mime_address_ok(addr);
  }
  if (gt == NULL || gt[1] != '\0' || (size_t)(gt - lt - 1) >= addrlen) {
    return false;
  }
  snprintf(addr, addrlen, "%.*s", (int)(gt - lt - 1), lt + 1);
  const char *end = lt;
  while (end > spec && end[-1] == ' ') {
    end--;
  }
  const char *start = spec;
  if (end - start >= 2 && *start == '"' && end[-1] == '"') {
    start++, end--;
  }
  snprintf(name, namelen, "%.*s", (int)(end - start), start);
  return h_mime_address_ok(addr);
}

/* A display name as a quoted-string (ASCII) or encoded-words (anything else). */
static void display_name(FILE *f, const char *name) {
  char *clean = sanitize(name);
  if (plain_ascii(clean)) {
    fputc('"', f);
    for (const char *p = clean; *p != '\0'; p++) {
      if (*p == '"' || *p == '\\') {
        fputc('\\', f);
      }
      fputc(*p, f);
    }
    fputc('"', f);
  } else {
    encoded_words(f, clean);
  }
  free(clean);
}

char *h_mime_mailbox(const char *name, const char *addr) {
  if (name == NULL || name[0] == '\0') {
    return h_strdup(addr);
  }
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  display_name(f, name);
  fprintf(f, " <%s>", addr);
  fclose(f);
  return out;
}

/* Quoted-printable output written straight into one buffer sized for the worst case
 * (h_mime_qp): no stdio call per character. */
struct qp_buf {
  char *p;    /* owned by h_mime_qp, handed to its caller */
  size_t len;
};

/* Appends one QP token, inserting a soft line break to keep lines <= 76. */
static void qp_put(struct qp_buf *b, const char *token, size_t n, size_t *col) {
  if (*col + n > 75) {
    memcpy(b->p + b->len, "=\r\n", 3);
    b->len += 3;
    *col = 0;
  }
  memcpy(b->p + b->len, token, n);
  b->len += n;
  *col += n;
}

static void qp_line(struct qp_buf *b, const unsigned char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  size_t col = 0;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = s[i];
    bool last = i + 1 == len;
    bool literal = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !last);
    if (literal) {
      char t = (char)c;
      qp_put(b, &t, 1, &col);
    } else {
      char t[3] = {'=', hex[c >> 4], hex[c & 15]};
      qp_put(b, t, 3, &col);
    }
  }
  memcpy(b->p + b->len, "\r\n", 2);
  b->len += 2;
}

char *h_mime_qp(const char *text) {
  const char *p = text != NULL ? text : "";
  /* per input byte at most 3 bytes (=XX), a soft break (3 bytes) per 25 of them and a CRLF
   * for its newline: under 6 bytes each */
  struct qp_buf b = {h_malloc(strlen(p) * 6 + 8), 0};
  while (*p != '\0') {
    size_t n = strcspn(p, "\n");
    size_t len = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
    qp_line(&b, (const unsigned char *)p, len);
    p += n;
    if (*p == '\n') {
      p++;
    }
  }
  b.p[b.len] = '\0';
  return b.p;
}

void h_mime_date(time_t t, char out[40]) {
  static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct tm tm;
  gmtime_r(&t, &tm);
  snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
           months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_header(FILE *f, const char *name, const char *value) {
  char *v = h_mime_header_value(value, strlen(name) + 2);
  fprintf(f, "%s: %s\r\n", name, v);
  free(v);
}

static void put_part(FILE *f, const char *type, const char *content) {
  char *qp = h_mime_qp(content);
  fprintf(f,
          "Content-Type: %s; charset=UTF-8\r\n"
          "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s",
          type, qp);
  free(qp);
}

static void put_headers(FILE *f, const struct h_mime_message *m) {
  char date[40];
  h_mime_date(m->date, date);
  char *to = h_mime_mailbox(m->to_name, m->to_addr);
  fprintf(f, "Date: %s\r\nFrom: %s\r\nTo: %s\r\n", date, m->from, to);
  free(to);
  if (m->reply_to != NULL) {
    fprintf(f, "Reply-To: %s\r\n", m->reply_to);
  }
  put_header(f, "Subject", m->subject != NULL ? m->subject : "");
  fprintf(f, "Message-ID: <%s>\r\nMIME-Version: 1.0\r\n", m->message_id);
  if (m->list_unsubscribe != NULL) {
    fprintf(f, "List-Unsubscribe: <%s>\r\n", m->list_unsubscribe);
    if (m->list_unsubscribe_one_click) {
      fputs("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n", f);
    }
  }
  for (int i = 0; m->extra_headers != NULL && m->extra_headers[i] != NULL; i++) {
    fprintf(f, "%s\r\n", m->extra_headers[i]);
  }
}

char *h_mime_build(const struct h_mime_message *m) {
  char *out = NULL;
  size_t outlen = 0;
  FILE *f = open_memstream(&out, &outlen);
  put_headers(f, m);
  const char *text = m->text != NULL ? m->text : "";
  if (m->html == NULL) {
    put_part(f, "text/plain", text);
  } else {
    fprintf(f,
            "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
            "This is a multi-part message in MIME format.\r\n\r\n--%s\r\n",
            m->boundary, m->boundary);
    put_part(f, "text/plain", text);
    fprintf(f, "\r\n--%s\r\n", m->boundary);
    put_part(f, "text/html", m->html);
    fprintf(f, "\r\n--%s--\r\n", m->boundary);
  }
  fclose(f);
  return out;
}
