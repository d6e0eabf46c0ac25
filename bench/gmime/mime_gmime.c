/* mime_gmime.c - h_mime_build on GMime 3, for the drain benchmark only: with
 * -DHERALD_BENCH_GMIME=ON herald-email builds its messages here instead of in
 * workers/email/mime.c (whose h_mime_build is then renamed away), so bench/workers_drain.sh
 * measures what GMime would cost a real drain. Same message: multipart/alternative when there
 * is HTML, quoted-printable parts, an RFC 2047 subject, the same headers. */
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "mime.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static void gmime_start(void) { g_mime_init(); }

static GMimePart *qp_part(const char *subtype, const char *content) {
  GMimePart *part = g_mime_part_new_with_type("text", subtype);
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "UTF-8");
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer(content, strlen(content));
  GMimeDataWrapper *w = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(part, w);
  g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  g_object_unref(w);
  g_object_unref(stream);
  return part;
}

char *h_mime_build(const struct h_mime_message *m) {
  pthread_once(&gmime_once, gmime_start);
  GMimeMessage *message = g_mime_message_new(TRUE);
  GMimeObject *obj = GMIME_OBJECT(message);
  g_mime_object_set_header(obj, "From", m->from, NULL);
  if (m->reply_to != NULL) {
    g_mime_object_set_header(obj, "Reply-To", m->reply_to, NULL);
  }
  g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_TO, m->to_name, m->to_addr);
  g_mime_message_set_subject(message, m->subject != NULL ? m->subject : "", "UTF-8");
  GDateTime *date = g_date_time_new_from_unix_utc(m->date);
  g_mime_message_set_date(message, date);
  g_date_time_unref(date);
  g_mime_message_set_message_id(message, m->message_id);
  if (m->list_unsubscribe != NULL) {
    char *lu = h_sprintf("<%s>", m->list_unsubscribe);
    g_mime_object_set_header(obj, "List-Unsubscribe", lu, NULL);
    free(lu);
    if (m->list_unsubscribe_one_click) {
      g_mime_object_set_header(obj, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", NULL);
    }
  }
  for (int i = 0; m->extra_headers != NULL && m->extra_headers[i] != NULL; i++) {
    const char *h = m->extra_headers[i];
    const char *colon = strchr(h, ':');
    if (colon != NULL) {
      char *name = h_strndup(h, (size_t)(colon - h));
      g_mime_object_set_header(obj, name, colon + 1 + strspn(colon + 1, " "), NULL);
      free(name);
    }
  }
  GMimePart *plain = qp_part("plain", m->text != NULL ? m->text : "");
  if (m->html == NULL) {
    g_mime_message_set_mime_part(message, GMIME_OBJECT(plain));
  } else {
    GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
    g_mime_multipart_set_boundary(alt, m->boundary);
    GMimePart *rich = qp_part("html", m->html);
    g_mime_multipart_add(alt, GMIME_OBJECT(plain));
    g_mime_multipart_add(alt, GMIME_OBJECT(rich));
    g_mime_message_set_mime_part(message, GMIME_OBJECT(alt));
    g_object_unref(rich);
    g_object_unref(alt);
  }
  g_object_unref(plain);
  GMimeFormatOptions *fmt = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
  char *text = g_mime_object_to_string(obj, fmt);
  char *out = h_strdup(text);
  g_free(text);
  g_mime_format_options_free(fmt);
  g_object_unref(message);
  return out;
}
