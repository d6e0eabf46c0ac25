/* mime_build.c - what building one e-mail costs: the hand-written builder herald-email uses
 * (workers/email/mime.c + html.c) against GMime 3 (Debian libgmime-3.0-dev) building the same
 * message: multipart/alternative, text + HTML in quoted-printable, an RFC 2047 subject, the
 * same headers. Run by bench/mime_build.sh; prints microseconds per message for each. */
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "html.h"
#include "mime.h"

static const char *subject = "Caf\xc3\xa9 \xe2\x80\x94 your weekly news";
static const char *text =
  "Hello Ana,\n\nHere is what happened this week: three new comments on your post, and\n"
  "a reply from the team. Read them at https://app.example/n/42?ref=mail.\n\n"
  "Thanks for using Herald \xe2\x80\x94 see you next week.\n";
static const char *unsub = "https://herald.example/api/v1/unsubscribe?user=0b6b3a2e-3c4f-4d8e-"
                           "9f00-000000000001&category=news&sig=60d0a11ec7cae531151a519dd7faabc5"
                           "a7130b099d8790115b3c90a23c05bd9a";

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *html_of(void) {
  struct h_email_html in = {.title = subject, .text = text, .product = "Herald",
                            .action_url = "https://app.example/n/42", .unsubscribe_url = unsub};
  return h_email_html_render(&in);
}

static size_t hand_written(void) {
  char *html = html_of();
  const char *extra[] = {"X-Herald-Delivery-Id: 0b6b3a2e-3c4f-4d8e-9f00-000000000001",
                         "X-Herald-Category: news", NULL};
  char *from = h_mime_mailbox("Herald", "no-reply@herald.local");
  struct h_mime_message m = {
    .from = from, .to_addr = "ana@example.com", .to_name = "Ana Mar\xc3\xad" "a", .subject = subject,
    .text = text, .html = html, .message_id = "0b6b3a2e-3c4f-4d8e-9f00-000000000001@herald.local",
    .date = time(NULL), .list_unsubscribe = unsub, .list_unsubscribe_one_click = true,
    .extra_headers = extra, .boundary = "=_herald_0123456789abcdef01234567"};
  char *msg = h_mime_build(&m);
  size_t n = strlen(msg);
  free(msg);
  free(from);
  free(html);
  return n;
}

static GMimePart *qp_part(const char *subtype, const char *content) {
  GMimePart *part = g_mime_part_new_with_type("text", subtype);
  g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "UTF-8");
  GMimeStream *stream = g_mime_stream_mem_new_with_buffer(content, strlen(content));
  GMimeDataWrapper *wrapper = g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content(part, wrapper);
  g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  g_object_unref(wrapper);
  g_object_unref(stream);
  return part;
}

static size_t with_gmime(void) {
  char *html = html_of();
  GMimeMessage *message = g_mime_message_new(TRUE);
  g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_FROM, "Herald", "no-reply@herald.local");
  g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_TO, "Ana Mar\xc3\xad" "a", "ana@example.com");
  g_mime_message_set_subject(message, subject, "UTF-8");
  GDateTime *date = g_date_time_new_now_utc();
  g_mime_message_set_date(message, date);
  g_date_time_unref(date);
  g_mime_message_set_message_id(message, "0b6b3a2e-3c4f-4d8e-9f00-000000000001@herald.local");
  GMimeObject *obj = GMIME_OBJECT(message);
  char *lu = g_strdup_printf("<%s>", unsub);
  g_mime_object_set_header(obj, "List-Unsubscribe", lu, NULL);
  g_free(lu);
  g_mime_object_set_header(obj, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", NULL);
  g_mime_object_set_header(obj, "X-Herald-Delivery-Id", "0b6b3a2e-3c4f-4d8e-9f00-000000000001", NULL);
  g_mime_object_set_header(obj, "X-Herald-Category", "news", NULL);
  GMimeMultipart *alt = g_mime_multipart_new_with_subtype("alternative");
  GMimePart *plain = qp_part("plain", text), *rich = qp_part("html", html);
  g_mime_multipart_add(alt, GMIME_OBJECT(plain));
  g_mime_multipart_add(alt, GMIME_OBJECT(rich));
  g_mime_message_set_mime_part(message, GMIME_OBJECT(alt));
  g_object_unref(plain);
  g_object_unref(rich);
  g_object_unref(alt);
  GMimeFormatOptions *fmt = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(fmt, GMIME_NEWLINE_FORMAT_DOS);
  char *msg = g_mime_object_to_string(obj, fmt);
  size_t n = strlen(msg);
  g_free(msg);
  g_mime_format_options_free(fmt);
  g_object_unref(message);
  free(html);
  return n;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 20000;
  if (n < 1 || n > 10000000) {
    fprintf(stderr, "usage: mime_build [messages 1..10000000]\n");
    return 2;
  }
  h_alloc_install();
  g_mime_init();
  size_t bytes[2] = {0, 0};
  double secs[2];
  for (int round = 0; round < 2; round++) { /* the first round warms caches up */
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
      bytes[0] = hand_written();
    }
    double t1 = now_s();
    for (long i = 0; i < n; i++) {
      bytes[1] = with_gmime();
    }
    double t2 = now_s();
    secs[0] = t1 - t0;
    secs[1] = t2 - t1;
  }
  printf("| builder | us per message | messages/s | bytes |\n|---|---:|---:|---:|\n");
  printf("| hand-written (mime.c) | %.2f | %.0f | %zu |\n", secs[0] / (double)n * 1e6,
         (double)n / secs[0], bytes[0]);
  printf("| GMime %d.%d.%d | %.2f | %.0f | %zu |\n", gmime_major_version, gmime_minor_version,
         gmime_micro_version, secs[1] / (double)n * 1e6, (double)n / secs[1], bytes[1]);
  return 0;
}
