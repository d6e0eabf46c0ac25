/* html.c - an HTML part made from the text of a notification (see html.h). */
#include "html.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FONT "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"

/* Writes n bytes of s escaped for HTML text and attribute values. */
static void put_escaped(FILE *f, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    switch (s[i]) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    case '\r': break;
    default: fputc(s[i], f); break;
    }
  }
}

/* Length of the URL starting at s (http:// or https://), 0 when there is none. Stops at
 * whitespace, quotes and angle brackets, and leaves out trailing punctuation. */
static size_t url_length(const char *s) {
  size_t n;
  if (strncmp(s, "https://", 8) == 0) {
    n = 8;
  } else if (strncmp(s, "http://", 7) == 0) {
    n = 7;
  } else {
    return 0;
  }
  size_t start = n;
  while (s[n] != '\0' && strchr(" \t\r\n\"'<>", s[n]) == NULL) {
    n++;
  }
  while (n > start && strchr(".,;:!?)]}", s[n - 1]) != NULL) {
    n--;
  }
  return n > start ? n : 0;
}

/* One line of text: escaped, URLs as links. */
static void put_line(FILE *f, const char *s, size_t n) {
  size_t i = 0, plain = 0;
  while (i < n) {
    size_t u = (i == 0 || strchr(" \t(<\"'", s[i - 1]) != NULL) ? url_length(s + i) : 0;
    if (u > n - i) {
      u = 0;
    }
    if (u == 0) {
      i++;
      continue;
    }
    put_escaped(f, s + plain, i - plain);
    fputs("<a href=\"", f);
    put_escaped(f, s + i, u);
    fputs("\" style=\"color:#2563eb\">", f);
    put_escaped(f, s + i, u);
    fputs("</a>", f);
    i += u;
    plain = i;
  }
  put_escaped(f, s + plain, n - plain);
}

/* True when the line [s, s+n) holds only spaces and tabs (and a CR). */
static bool blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r') {
      return false;
    }
  }
  return true;
}

static void put_paragraphs(FILE *f, const char *text) {
  bool open = false, first_line = true;
  const char *p = text != NULL ? text : "";
  while (*p != '\0') {
    size_t n = strcspn(p, "\n");
    if (blank(p, n)) {
      if (open) {
        fputs("</p>\n", f);
        open = false;
      }
    } else {
      if (!open) {
        fputs("<p style=\"margin:0 0 16px\">", f);
        open = true;
        first_line = true;
      }
      if (!first_line) {
        fputs("<br>\n", f);
      }
      put_line(f, p, n);
      first_line = false;
    }
    p += n;
    if (*p == '\n') {
      p++;
    }
  }
  if (open) {
    fputs("</p>\n", f);
  }
}

char *h_email_html_paragraphs(const char *text) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  put_paragraphs(f, text);
  fclose(f);
  return out;
}

char *h_email_html_render(const struct h_email_html *in) {
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  const char *title = in->title != NULL ? in->title : "";
  fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"color-scheme\" content=\"light\">\n<title>", f);
  put_escaped(f, title, strlen(title));
  fputs("</title>\n</head>\n"
        "<body style=\"margin:0;padding:0;background:#f4f5f7;-webkit-text-size-adjust:100%\">\n"
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
        "style=\"background:#f4f5f7\"><tr><td align=\"center\" style=\"padding:24px 12px\">\n"
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" "
        "style=\"max-width:600px;background:#ffffff;border-radius:6px\">\n"
        "<tr><td style=\"padding:16px 24px;border-bottom:1px solid #e5e7eb;"
        "font:600 16px/1.4 " FONT ";color:#374151\">", f);
  put_escaped(f, in->product, strlen(in->product));
  fputs("</td></tr>\n<tr><td style=\"padding:24px;font:16px/1.5 " FONT ";color:#111827\">\n", f);
  if (title[0] != '\0') {
    fputs("<h1 style=\"margin:0 0 16px;font:600 20px/1.3 " FONT "\">", f);
    put_escaped(f, title, strlen(title));
    fputs("</h1>\n", f);
  }
  put_paragraphs(f, in->text);
  size_t action = in->action_url != NULL ? url_length(in->action_url) : 0;
  if (action > 0 && action == strlen(in->action_url)) {
    fputs("<p style=\"margin:24px 0 0\"><a href=\"", f);
    put_escaped(f, in->action_url, action);
    fputs("\" style=\"display:inline-block;padding:10px 18px;background:#2563eb;color:#ffffff;"
          "border-radius:4px;text-decoration:none;font-weight:600\">Open</a></p>\n", f);
  }
  fputs("</td></tr>\n<tr><td style=\"padding:16px 24px;border-top:1px solid #e5e7eb;"
        "font:12px/1.5 " FONT ";color:#6b7280\">Sent by ", f);
  put_escaped(f, in->product, strlen(in->product));
  fputs(".", f);
  if (in->unsubscribe_url != NULL) {
    fputs(" <a href=\"", f);
    put_escaped(f, in->unsubscribe_url, strlen(in->unsubscribe_url));
    fputs("\" style=\"color:#6b7280\">Unsubscribe</a> from these e-mails.", f);
  }
  fputs("</td></tr>\n</table>\n</td></tr></table>\n</body>\n</html>\n", f);
  fclose(f);
  return out;
}
