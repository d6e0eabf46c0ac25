/* payload.c - webhook bodies per endpoint format (see payload.h). */
#include "payload.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* s cut to at most max bytes without splitting a UTF-8 character (new string). */
static char *cut(const char *s, size_t max) {
  size_t n = strlen(s);
  if (n <= max) {
    return h_strdup(s);
  }
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) {
    max--;
  }
  return h_sprintf("%.*s", (int)max, s);
}

/* Sets key to a string cut to max bytes, or leaves it out when s is NULL or empty. */
static void set_cut(json_t *o, const char *key, const char *s, size_t max) {
  if (s != NULL && s[0] != '\0') {
    char *c = cut(s, max);
    json_object_set_new(o, key, json_string(c));
    free(c);
  }
}

/* Slack mrkdwn: &, < and > must be escaped (new string). */
static char *slack_escape(const char *s) {
  size_t n = 0;
  for (const char *p = s; *p != '\0'; p++) {
    n += *p == '&' ? 5 : (*p == '<' || *p == '>') ? 4 : 1;
  }
  char *out = h_malloc(n + 1), *q = out;
  for (const char *p = s; *p != '\0'; p++) {
    const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : NULL;
    if (rep != NULL) {
      memcpy(q, rep, strlen(rep));
      q += strlen(rep);
    } else {
      *q++ = *p;
    }
  }
  *q = '\0';
  return out;
}

static const char *or_empty(const char *s) { return s != NULL ? s : ""; }

static json_t *generic(const struct h_job *job, const char *timestamp) {
  json_t *data = json_pack("{ssssssssss}", "id", job->notification_id, "delivery_id", job->id,
                           "user_id", job->user_id, "category", or_empty(job->category),
                           "priority", or_empty(job->priority));
  json_object_set_new(data, "title", job->title ? json_string(job->title) : json_null());
  json_object_set_new(data, "body", job->body ? json_string(job->body) : json_null());
  json_object_set_new(data, "action_url",
                      job->action_url ? json_string(job->action_url) : json_null());
  json_object_set(data, "data", job->data);
  return json_pack("{ssssso}", "type", "notification.created", "timestamp", timestamp, "data",
                   data);
}

static json_t *slack(const struct h_job *job) {
  const char *title = job->title != NULL && job->title[0] != '\0' ? job->title
                                                                  : or_empty(job->category);
  json_t *blocks = json_array();
  json_t *header = json_pack("{ss}", "type", "plain_text");
  set_cut(header, "text", title, 150);
  json_array_append_new(blocks, json_pack("{ssso}", "type", "header", "text", header));
  if (job->body != NULL && job->body[0] != '\0') {
    char *esc = slack_escape(job->body);
    json_t *text = json_pack("{ss}", "type", "mrkdwn");
    set_cut(text, "text", esc, 3000);
    free(esc);
    json_array_append_new(blocks, json_pack("{ssso}", "type", "section", "text", text));
  }
  if (job->action_url != NULL && job->action_url[0] != '\0') {
    json_t *button = json_pack("{sss{ssss}}", "type", "button", "text", "type", "plain_text",
                               "text", "Open");
    set_cut(button, "url", job->action_url, 3000);
    json_array_append_new(blocks,
                          json_pack("{sss[o]}", "type", "actions", "elements", button));
  }
  char *ctx = h_sprintf("%s · %s", or_empty(job->category), or_empty(job->priority));
  char *esc = slack_escape(ctx);
  json_array_append_new(blocks, json_pack("{sss[{ssss}]}", "type", "context", "elements", "type",
                                          "mrkdwn", "text", esc));
  free(esc);
  free(ctx);
  json_t *msg = json_object();
  set_cut(msg, "text", title, 3000);
  json_object_set_new(msg, "blocks", blocks);
  return msg;
}

/* Embed colour by priority. */
static int discord_colour(const char *priority) {
  if (priority != NULL && strcmp(priority, "critical") == 0) {
    return 0xD32F2F;
  }
  if (priority != NULL && strcmp(priority, "high") == 0) {
    return 0xF57C00;
  }
  return 0x1976D2;
}

static json_t *discord(const struct h_job *job, const char *timestamp) {
  json_t *embed = json_pack("{sisss{ss}}", "color", discord_colour(job->priority), "timestamp",
                            timestamp, "footer", "text", or_empty(job->category));
  set_cut(embed, "title", job->title != NULL ? job->title : job->category, 256);
  set_cut(embed, "description", job->body, 4096);
  set_cut(embed, "url", job->action_url, 2048);
  return json_pack("{s[o]s{s[]}}", "embeds", embed, "allowed_mentions", "parse");
}

json_t *h_webhook_payload(const struct h_job *job, const char *format, const char *timestamp) {
  if (format != NULL && strcmp(format, "slack") == 0) {
    return slack(job);
  }
  if (format != NULL && strcmp(format, "discord") == 0) {
    return discord(job, timestamp);
  }
  return generic(job, timestamp);
}
