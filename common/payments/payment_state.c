/* payment_state.c - status ranks and transition rules. */
#include "payments/payment_state.h"

#include <stddef.h>
#include <string.h>

struct ranked {
  const char *name;
  int rank;
};

static const struct ranked payment_statuses[] = {
  {"requires_payment_method", 0}, {"requires_confirmation", 1}, {"requires_action", 2},
  {"processing", 3},              {"succeeded", 4},             {"canceled", 4},
  {"failed", 4},                  {"disputed", 5},              {NULL, -1},
};

static const struct ranked refund_statuses[] = {
  {"pending", 0}, {"requires_action", 1}, {"succeeded", 2}, {"failed", 2}, {"canceled", 2},
  {NULL, -1},
};

static const struct ranked dispute_statuses[] = {
  {"warning_needs_response", 0}, {"needs_response", 0}, {"warning_under_review", 1},
  {"under_review", 1},           {"warning_closed", 2}, {"won", 2},
  {"lost", 2},                   {NULL, -1},
};

static int rank_of(const struct ranked *table, const char *s) {
  for (const struct ranked *r = table; s != NULL && r->name != NULL; r++) {
    if (strcmp(r->name, s) == 0) {
      return r->rank;
    }
  }
  return -1;
}

static bool in_list(const char *const *list, const char *s) {
  for (size_t i = 0; s != NULL && list[i] != NULL; i++) {
    if (strcmp(list[i], s) == 0) {
      return true;
    }
  }
  return false;
}

bool h_payment_status_valid(const char *s) { return rank_of(payment_statuses, s) >= 0; }
int h_payment_status_rank(const char *s) { return rank_of(payment_statuses, s); }
bool h_payment_status_final(const char *s) { return rank_of(payment_statuses, s) >= 4; }

bool h_payment_status_confirmable(const char *s) {
  static const char *const ok[] = {"requires_payment_method", "requires_confirmation",
                                   "requires_action", NULL};
  return in_list(ok, s);
}

bool h_payment_status_cancelable(const char *s) {
  static const char *const ok[] = {"requires_payment_method", "requires_confirmation",
                                   "requires_action", NULL};
  return in_list(ok, s);
}

/* The shared rule over a rank table whose final rank is final_rank. */
static enum h_transition transition(const struct ranked *table, int final_rank,
                                    const char *current, const char *next, bool authoritative) {
  int from = rank_of(table, current), to = rank_of(table, next);
  if (to < 0) {
    return H_TRANSITION_IGNORE;
  }
  if (from >= 0 && strcmp(current, next) == 0) {
    return H_TRANSITION_SAME;
  }
  if (from >= final_rank) {
    return H_TRANSITION_IGNORE;
  }
  if (from < 0 || to > from) {
    return H_TRANSITION_APPLY;
  }
  return authoritative ? H_TRANSITION_APPLY : H_TRANSITION_REFETCH;
}

enum h_transition h_payment_transition(const char *current, const char *next,
                                       bool authoritative) {
  return transition(payment_statuses, 4, current, next, authoritative);
}

bool h_payment_status_disputable(const char *s) {
  return s != NULL && strcmp(s, "succeeded") == 0;
}

bool h_dispute_status_valid(const char *s) { return rank_of(dispute_statuses, s) >= 0; }
bool h_dispute_status_final(const char *s) { return rank_of(dispute_statuses, s) == 2; }

bool h_dispute_status_open(const char *s) {
  static const char *const ok[] = {"warning_needs_response", "needs_response", NULL};
  return in_list(ok, s);
}

enum h_transition h_dispute_transition(const char *current, const char *next,
                                       bool authoritative) {
  return transition(dispute_statuses, 2, current, next, authoritative);
}

bool h_refund_status_valid(const char *s) { return rank_of(refund_statuses, s) >= 0; }
bool h_refund_status_final(const char *s) { return rank_of(refund_statuses, s) == 2; }

bool h_refund_status_counts(const char *s) {
  static const char *const ok[] = {"pending", "requires_action", "succeeded", NULL};
  return in_list(ok, s);
}

enum h_transition h_refund_transition(const char *current, const char *next,
                                      bool authoritative) {
  return transition(refund_statuses, 2, current, next, authoritative);
}

bool h_payment_type_valid(const char *s) {
  static const char *const ok[] = {"tournament_fee", "coaching_session", "venue_booking",
                                   "subscription", "other", NULL};
  return in_list(ok, s);
}

bool h_refund_reason_valid(const char *s) {
  static const char *const ok[] = {"duplicate", "fraudulent", "requested_by_customer", NULL};
  return in_list(ok, s);
}

bool h_cancellation_reason_valid(const char *s) {
  static const char *const ok[] = {"duplicate", "fraudulent", "requested_by_customer",
                                   "abandoned", NULL};
  return in_list(ok, s);
}
