"""fake_stripe_billing.py - disputes and Stripe Billing (products, prices, subscriptions,
invoices) of the fake Stripe (fake_stripe.py): the API routes and the control actions that
play the card network's and the clock's part.

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

KINDS = ("dispute", "product", "price", "subscription", "invoice")
INTERVALS = {"day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}


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


# ------------------------------------------------------------------ products and prices

def product_create(state, params, _m):
    name = params.get("name")
    if not name:
        raise so.StripeError(400, "invalid_request_error", "Missing required param: name.",
                             code="parameter_missing", param="name")
    prod = {"id": so.new_id("prod"), "object": "product", "name": name, "active": True,
            "created": int(time.time()), "livemode": False, "metadata": so.metadata_of(params)}
    state.add("product", prod)
    state.event("product.created", prod)
    return 200, prod


def product_update(state, params, m):
    prod = state.get("product", m["id"])
    if "name" in params:
        if not params["name"]:
            raise so.StripeError(400, "invalid_request_error", "name cannot be empty",
                                 param="name")
        prod["name"] = params["name"]
    if "active" in params:
        prod["active"] = so.as_bool(params, "active")
    state.event("product.updated", prod)
    return 200, prod


def price_create(state, params, _m):
    prod = state.get("product", params.get("product") or "", "product", 400)
    amount = so.as_int(params, "unit_amount", required=True, minimum=0, maximum=99999999)
    currency = (params.get("currency") or "").lower()
    if len(currency) != 3 or not currency.isalpha():
        raise so.StripeError(400, "invalid_request_error", "Invalid currency.",
                             code="parameter_invalid", param="currency")
    rec = params.get("recurring") or {}
    if not isinstance(rec, dict) or rec.get("interval") not in INTERVALS:
        raise so.StripeError(400, "invalid_request_error", "Invalid recurring[interval].",
                             code="parameter_invalid", param="recurring[interval]")
    count = so.as_int(rec, "interval_count", minimum=1, maximum=12) or 1
    price = {"id": so.new_id("price"), "object": "price", "product": prod["id"], "active": True,
             "unit_amount": amount, "currency": currency, "type": "recurring",
             "recurring": {"interval": rec["interval"], "interval_count": count},
             "created": int(time.time()), "livemode": False, "metadata": so.metadata_of(params)}
    state.add("price", price)
    state.event("price.created", price)
    return 200, price


# ------------------------------------------------------------------ subscriptions and invoices

def period_of(price):
    rec = price["recurring"]
    return INTERVALS[rec["interval"]] * rec["interval_count"]


def sub_price(state, sub):
    return state.objects["price"][sub["items"]["data"][0]["price"]["id"]]


def charge_invoice(state, sub, inv, fail):
    """One payment attempt of an invoice with the subscription's default method."""
    inv["attempt_count"] += 1
    inv["attempted"] = True
    pm_id = sub.get("default_payment_method")
    behaviour = "succeed"
    if pm_id:
        pm = state.objects["payment_method"].get(pm_id, {})
        behaviour = so.TEST_CARDS.get(pm.get("_template"), ("succeed",))[0]
    else:
        behaviour = "decline"
    if fail or behaviour != "succeed":
        inv["status"] = "open"
        inv["next_payment_attempt"] = int(time.time()) + 3 * 86400
        state.event("invoice.payment_failed", inv)
        return False
    inv.update(status="paid", amount_paid=inv["amount_due"], paid=True, next_payment_attempt=None)
    state.event("invoice.paid", inv)
    return True


def new_invoice(state, sub, amount, reason):
    price = sub_price(state, sub)
    inv = {"id": so.new_id("in"), "object": "invoice", "subscription": sub["id"],
           "customer": sub["customer"], "currency": price["currency"], "amount_due": amount,
           "amount_paid": 0, "attempt_count": 0, "attempted": False, "paid": False,
           "status": "open", "billing_reason": reason, "created": int(time.time()),
           "next_payment_attempt": None, "livemode": False,
           "period_start": sub["current_period_start"], "period_end": sub["current_period_end"]}
    state.add("invoice", inv)
    sub["latest_invoice"] = inv["id"]
    state.event("invoice.created", inv)
    state.event("invoice.finalized", inv)
    return inv


def set_status(state, sub, status, created=False):
    changed = sub["status"] != status
    sub["status"] = status
    if changed and not created:
        state.event("customer.subscription.updated", sub)


def sub_create(state, params, _m):
    cus = state.get("customer", params.get("customer") or "", "customer", 400)
    items = params.get("items") or {}
    first = items.get("0") if isinstance(items, dict) else None
    if not isinstance(first, dict) or not first.get("price"):
        raise so.StripeError(400, "invalid_request_error", "Missing required param: items.",
                             code="parameter_missing", param="items")
    price = state.get("price", first["price"], "items[0][price]", 400)
    if not price["active"]:
        raise so.StripeError(400, "invalid_request_error",
                             "The price specified is inactive. This field only accepts active "
                             "prices.", param="items[0][price]")
    trial_days = so.as_int(params, "trial_period_days", minimum=0, maximum=730) or 0
    pm_id = params.get("default_payment_method") or \
        cus["invoice_settings"].get("default_payment_method")
    if pm_id:
        pm = state.get("payment_method", pm_id, "default_payment_method", 400)
        if pm.get("customer") != cus["id"]:
            raise so.StripeError(400, "invalid_request_error",
                                 "The payment method must be attached to the customer.",
                                 param="default_payment_method")
    elif trial_days == 0:
        raise so.StripeError(400, "invalid_request_error",
                             "This customer has no attached payment source or default payment "
                             "method.", code="resource_missing")
    now = int(time.time())
    end = now + (trial_days * 86400 if trial_days else period_of(price))
    sub = {"id": so.new_id("sub"), "object": "subscription", "customer": cus["id"],
           "status": "trialing" if trial_days else "incomplete", "created": now,
           "current_period_start": now, "current_period_end": end,
           "trial_start": now if trial_days else None, "trial_end": end if trial_days else None,
           "cancel_at_period_end": False, "canceled_at": None, "ended_at": None,
           "default_payment_method": pm_id, "latest_invoice": None, "livemode": False,
           "metadata": so.metadata_of(params),
           "items": {"object": "list", "data": [{"id": so.new_id("si"), "object":
                                                 "subscription_item", "price": dict(price),
                                                 "quantity": 1}]}}
    state.add("subscription", sub)
    inv = new_invoice(state, sub, 0 if trial_days else price["unit_amount"], "subscription_create")
    if trial_days:
        inv.update(status="paid", paid=True)
        state.event("invoice.paid", inv)
    elif charge_invoice(state, sub, inv, False):
        sub["status"] = "active"
    state.event("customer.subscription.created", sub)
    return 200, sub


def live(sub):
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise so.StripeError(400, "invalid_request_error",
                             "A canceled subscription can only update its cancellation_details "
                             "and metadata.")


def sub_update(state, params, m):
    sub = state.get("subscription", m["id"])
    live(sub)
    if "cancel_at_period_end" in params:
        sub["cancel_at_period_end"] = so.as_bool(params, "cancel_at_period_end")
        sub["canceled_at"] = int(time.time()) if sub["cancel_at_period_end"] else None
    items = params.get("items")
    if isinstance(items, dict) and isinstance(items.get("0"), dict):
        item = items["0"]
        current = sub["items"]["data"][0]
        if item.get("id") and item["id"] != current["id"]:
            raise so.StripeError(400, "invalid_request_error", f"No such subscription item: "
                                 f"'{item['id']}'", code="resource_missing", param="items[0][id]")
        price = state.get("price", item.get("price") or "", "items[0][price]", 400)
        if not price["active"]:
            raise so.StripeError(400, "invalid_request_error", "The price specified is inactive.",
                                 param="items[0][price]")
        current["price"] = dict(price)
    sub["metadata"].update(so.metadata_of(params))
    state.event("customer.subscription.updated", sub)
    return 200, sub


def sub_cancel(state, _params, m):
    sub = state.get("subscription", m["id"])
    live(sub)
    end_sub(state, sub)
    return 200, sub


def end_sub(state, sub):
    now = int(time.time())
    sub.update(status="canceled", canceled_at=sub["canceled_at"] or now, ended_at=now)
    state.event("customer.subscription.deleted", sub)


def sub_renew(state, sub, body):
    """The clock reaches the period's end: cancel, or invoice and charge the next period."""
    if sub["status"] in ("canceled", "incomplete_expired"):
        raise so.StripeError(400, "invalid_request_error", "the subscription is over")
    if sub["cancel_at_period_end"]:
        end_sub(state, sub)
        return sub
    price = sub_price(state, sub)
    sub["current_period_start"] = sub["current_period_end"]
    sub["current_period_end"] = sub["current_period_start"] + period_of(price)
    reason = "subscription_cycle"
    inv = new_invoice(state, sub, price["unit_amount"], reason)
    paid = charge_invoice(state, sub, inv, bool(body.get("fail")))
    sub["status"] = "active" if paid else "past_due"
    state.event("customer.subscription.updated", sub)
    return sub


def invoice_retry(state, inv, body):
    """Stripe's smart retries: one more attempt at an open invoice."""
    if inv["status"] != "open":
        raise so.StripeError(400, "invalid_request_error", f"invoice is {inv['status']}")
    sub = state.objects["subscription"][inv["subscription"]]
    if charge_invoice(state, sub, inv, bool(body.get("fail"))):
        set_status(state, sub, "active")
    return inv


ROUTES = [
    ("POST", r"/v1/products", product_create),
    ("GET", r"/v1/products/(?P<id>[^/]+)", lambda st, _p, m: (200, st.get("product", m["id"]))),
    ("POST", r"/v1/products/(?P<id>[^/]+)", product_update),
    ("POST", r"/v1/prices", price_create),
    ("GET", r"/v1/prices/(?P<id>[^/]+)", lambda st, _p, m: (200, st.get("price", m["id"]))),
    ("POST", r"/v1/subscriptions", sub_create),
    ("GET", r"/v1/subscriptions/(?P<id>[^/]+)",
     lambda st, _p, m: (200, st.get("subscription", m["id"]))),
    ("POST", r"/v1/subscriptions/(?P<id>[^/]+)", sub_update),
    ("DELETE", r"/v1/subscriptions/(?P<id>[^/]+)", sub_cancel),
    ("GET", r"/v1/invoices/(?P<id>[^/]+)", lambda st, _p, m: (200, st.get("invoice", m["id"]))),
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
    if parts[0] == "subscriptions" and parts[2] == "renew":
        return sub_renew(state, state.get("subscription", parts[1]), body)
    if parts[0] == "invoices" and parts[2] == "retry":
        return invoice_retry(state, state.get("invoice", parts[1]), body)
    return None
