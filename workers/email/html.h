/* html.h - the HTML part of an e-mail sent without an HTML template: the text, escaped, in
 * paragraphs with its links made clickable, inside a small responsive layout that names the
 * product. Pure functions, unit-tested. */
#ifndef HERALD_EMAIL_HTML_H
#define HERALD_EMAIL_HTML_H

struct h_email_html {
  const char *title;           /* UTF-8 subject, shown as the heading and <title>; may be NULL */
  const char *text;            /* UTF-8 plain text; may be NULL */
  const char *product;         /* HERALD_PRODUCT_NAME */
  const char *action_url;      /* a button to it when http(s); may be NULL */
  const char *unsubscribe_url; /* a footer link when not NULL */
};

/* The whole HTML document. New string the caller frees. */
char *h_email_html_render(const struct h_email_html *in);

/* text as HTML: escaped, blank lines -> paragraphs, line breaks -> <br>, http(s) URLs -> links.
 * New string the caller frees. */
char *h_email_html_paragraphs(const char *text);

#endif
