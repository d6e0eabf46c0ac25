"""fake_stripe_billing.py - disputes of the fake Stripe (fake_stripe.py): the API routes
and the control actions that play the card network's part.

A dispute is opened on a succeeded payment intent's charge by the control API
(POST /_fake/payment_intents/{id}/dispute), moves needs_response -> under_review (evidence
submitted, or /_fake/disputes/{id}/under_review) -> won | lost, each step with Stripe's
events (charge.dispute.created, charge.dispute.updated, charge.dispute.closed). As in
Stripe, evidence can be updated only while the dispute needs a response, unknown evidence
fields and texts over 20,000 characters are refused, and submit=true hands it to review.
"""

import time

import fake_stripe_objects as so  # imported first (it imports this module at its end)

EVIDENCE_FIELDS = ("access_activity_log", "billing_address", "cancellation_policy_disclosure",
                   "cancellation_rebuttal", "customer_communication", "customer_email_address",
                   "customer_name", "duplicate_charge_explanation", "product_description",
                   "refund_policy_disclosure", "refund_refusal_explanation",
                   "service_date", "shipping_tracking_number", "uncategorized_text")
REASONS = ("bank_cannot_process", "credit_not_processed", "customer_initiated", "debit_not_authorized",
           "duplicate", "fraudulent", "general", "incorrect_account_details",
           "insufficient_funds", "product_not_received", "product_unacceptable",
           "subscription_canceled", "unrecognized")
OPEN = ("needs_response", "warning_needs_response")
CLOSED = ("won", "lost", "warning_closed")

KINDS = ("dispute",)


def dispute_open(state, pi, body):
    """Opens a dispute on pi's charge (the cardholder's bank asks for the money back)."""
    if pi["status"] != "succeeded" or not pi.get("latest_charge"):
        raise so.StripeError(400, "invalid_request_error", "only a succeeded intent can be disputed")
    reason = body.get("reason", "fraudulent")
    if reason not in REASONS:
        raise so.StripeError(400, "invalid_request_error", f"unknown dispute reason {reason}")
    amount = int(body.get("amount", pi["amount"]))
    if amount < 1 or amount > pi["amount"]:
        raise so.StripeError(400, "invalid_request_error", "amount out of range")
    status = "warning_needs_response" if body.get("inquiry") else "needs_response"
    now = int(time.time())
    du = {"id": so.new_id("du"), "object": "dispute", "amount": amount, "currency": pi["currency"],
          "charge": pi["latest_charge"], "payment_intent": pi["id"], "reason": reason,
          "status": status, "created": now, "livemode": False, "is_charge_refundable": False,
          "metadata": {}, "evidence": {k: None for k in EVIDENCE_FIELDS},
          "evidence_details": {"due_by": now + int(body.get("due_in_s", 7 * 86400)),
                               "has_evidence": False, "past_due": False,
                               "submission_count": 0}}
    state.add("dispute", du)
    charge = state.objects["charge"].get(pi["latest_charge"])
    if charge is not None:
        charge["disputed"] = True
    state.event("charge.dispute.created", du)
    return du


def dispute_advance(state, du, action):
    """Moves a dispute on as the card network would: under_review, won or lost."""
    if du["status"] in CLOSED:
        raise so.StripeError(400, "invalid_request_error", f"the dispute is already {du['status']}")
    warning = du["status"].startswith("warning_")
    if action == "under_review":
        du["status"] = "warning_under_review" if warning else "under_review"
        state.event("charge.dispute.updated", du)
    elif action in ("won", "lost"):
        du["status"] = "warning_closed" if warning else action
        state.event("charge.dispute.closed", du)
    else:
        raise so.StripeError(400, "invalid_request_error", f"unknown action {action}")
    return du


def dispute_update(state, params, m):
    du = state.get("dispute", m["id"])
    if du["status"] not in OPEN:
        raise so.StripeError(400, "invalid_request_error",
                          "This dispute is no longer accepting evidence: its status is "
                          f"{du['status']}.", code="dispute_not_accepting_evidence")
    evidence = params.get("evidence", {})
    if not isinstance(evidence, dict):
        raise so.StripeError(400, "invalid_request_error", "Invalid evidence", param="evidence")
    for key, value in evidence.items():
        if key not in EVIDENCE_FIELDS:
            raise so.StripeError(400, "invalid_request_error", f"Received unknown parameter: "
                              f"evidence[{key}]", code="parameter_unknown",
                              param=f"evidence[{key}]")
        if len(value) > 20000:
            raise so.StripeError(400, "invalid_request_error", f"evidence[{key}] is too long "
                              "(20000 characters at most).", code="parameter_invalid",
                              param=f"evidence[{key}]")
    submit = so.as_bool(params, "submit")
    du["evidence"].update({k: (v or None) for k, v in evidence.items()})
    du["metadata"].update(so.metadata_of(params))
    du["evidence_details"]["has_evidence"] = any(du["evidence"].values())
    if submit:
        du["evidence_details"]["submission_count"] += 1
        du["status"] = "warning_under_review" if du["status"].startswith("warning_") \
            else "under_review"
    state.event("charge.dispute.updated", du)
    return 200, du


def dispute_close(state, _params, m):
    du = state.get("dispute", m["id"])
    if du["status"] not in OPEN:
        raise so.StripeError(400, "invalid_request_error",
                          f"This dispute cannot be closed: its status is {du['status']}.")
    du["status"] = "warning_closed" if du["status"].startswith("warning_") else "lost"
    state.event("charge.dispute.closed", du)
    return 200, du


def dispute_list(state, params, _m):
    pi_id = params.get("payment_intent")
    so.as_int(params, "limit", minimum=1, maximum=100)
    return 200, so.paginate(state, "dispute", params,
                         lambda o: pi_id is None or o["payment_intent"] == pi_id)


def dispute_get(state, _params, m):
    return 200, state.get("dispute", m["id"])


ROUTES = [
    ("GET", r"/v1/disputes", dispute_list),
    ("GET", r"/v1/disputes/(?P<id>[^/]+)", dispute_get),
    ("POST", r"/v1/disputes/(?P<id>[^/]+)", dispute_update),
    ("POST", r"/v1/disputes/(?P<id>[^/]+)/close", dispute_close),
]


def control(state, method, path, body):
    """The control routes of disputes; None when path is not one of them."""
    parts = path.strip("/").split("/")
    if method != "POST" or len(parts) != 3:
        return None
    if parts[0] == "payment_intents" and parts[2] == "dispute":
        return dispute_open(state, state.get("payment_intent", parts[1]), body)
    if parts[0] == "disputes":
        return dispute_advance(state, state.get("dispute", parts[1]), parts[2])
    return None
