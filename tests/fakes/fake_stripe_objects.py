"""fake_stripe_objects.py - the state and the resources of the fake Stripe (fake_stripe.py).

Objects (customers, payment intents, refunds, payment methods, charges, events) live in one
State behind one lock; each resource function takes (state, params, match) and returns
(status, object) or raises StripeError, as Stripe answers.
"""

import queue
import re
import secrets
import threading
import time
import urllib.parse

API_VERSION = "2024-06-20"

# Test payment methods: behaviour, brand, last4.
TEST_CARDS = {
    "pm_card_visa": ("succeed", "visa", "4242", None),
    "pm_card_mastercard": ("succeed", "mastercard", "4444", None),
    "pm_card_amex": ("succeed", "amex", "8431", None),
    "pm_card_chargeDeclined": ("decline", "visa", "0002", "generic_decline"),
    "pm_card_chargeDeclinedInsufficientFunds": ("decline", "visa", "9995", "insufficient_funds"),
    "pm_card_chargeDeclinedExpiredCard": ("decline", "visa", "0069", "expired_card"),
    "pm_card_authenticationRequired": ("action", "visa", "3184", None),
    "pm_card_threeDSecure2Required": ("action", "visa", "3220", None),
    "pm_card_processing": ("processing", "visa", "1881", None),
}

CANCELABLE = ("requires_payment_method", "requires_confirmation", "requires_action", "processing")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")


class StripeError(Exception):
    """An error answer: HTTP status and Stripe's error object."""

    def __init__(self, status, etype, message, code=None, param=None, **extra):
        super().__init__(message)
        self.status = status
        self.error = {"type": etype, "message": message}
        if code:
            self.error["code"] = code
        if param:
            self.error["param"] = param
        self.error.update(extra)


def missing(kind, oid, param=None, status=404):
    return StripeError(status, "invalid_request_error", f"No such {kind}: '{oid}'",
                       code="resource_missing", param=param)


def new_id(prefix):
    return prefix + "_" + secrets.token_hex(12)


def parse_form(text):
    """Form text -> nested dict: a[b][c]=v -> {"a": {"b": {"c": "v"}}}; a[]=v -> lists."""
    out = {}
    for key, value in urllib.parse.parse_qsl(text, keep_blank_values=True):
        m = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
        if not m:
            raise StripeError(400, "invalid_request_error", f"Invalid parameter {key}",
                              code="parameter_invalid", param=key)
        parts = [m.group(1)] + re.findall(r"\[([^\[\]]*)\]", m.group(2))
        is_list = parts[-1] == ""
        path = parts[:-2] if is_list else parts[:-1]
        leaf = parts[-2] if is_list else parts[-1]
        node = out
        for part in path:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise StripeError(400, "invalid_request_error", f"Invalid parameter {key}",
                                  code="parameter_invalid", param=key)
        if is_list:
            node.setdefault(leaf, []).append(value)
        else:
            node[leaf] = value
    return out


def as_int(params, name, required=False, minimum=None, maximum=None):
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise StripeError(400, "invalid_request_error", f"Missing required param: {name}.",
                              code="parameter_missing", param=name)
        return None
    if not re.fullmatch(r"-?[0-9]+", str(value)):
        raise StripeError(400, "invalid_request_error", f"Invalid integer: {value}",
                          code="parameter_invalid_integer", param=name)
    n = int(value)
    if (minimum is not None and n < minimum) or (maximum is not None and n > maximum):
        raise StripeError(400, "invalid_request_error", f"Invalid {name}: {n} is out of range.",
                          code="parameter_invalid_integer", param=name)
    return n


def as_bool(params, name):
    value = params.get(name)
    if value is None:
        return False
    if value not in ("true", "false"):
        raise StripeError(400, "invalid_request_error", f"Invalid boolean: {value}",
                          code="parameter_invalid_boolean", param=name)
    return value == "true"


def metadata_of(params):
    md = params.get("metadata", {})
    if md == "":
        return {}
    if not isinstance(md, dict):
        raise StripeError(400, "invalid_request_error", "Invalid metadata", param="metadata")
    if len(md) > 50:
        raise StripeError(400, "invalid_request_error", "Too many metadata keys (50 max).",
                          param="metadata")
    for k, v in md.items():
        if not isinstance(v, str) or len(k) > 40 or len(v) > 500:
            raise StripeError(400, "invalid_request_error", f"Invalid metadata[{k}]",
                              param=f"metadata[{k}]")
    return {k: v for k, v in md.items() if v != ""}


class State:
    """Every object of the fake, behind one lock."""

    def __init__(self):
        self.lock = threading.RLock()
        self.reset()
        self.webhook = {"url": None, "secret": None, "auto": False}
        self.outbox = queue.Queue()

    def reset(self):
        with self.lock:
            self.objects = {"customer": {}, "payment_intent": {}, "refund": {},
                            "payment_method": {}, "charge": {}, "event": {}}
            self.objects.update({kind: {} for kind in fake_stripe_billing.KINDS})
            self.order = 0          # creation order, for stable "newest first" lists
            self.created = {}       # kind -> count of objects created
            self.calls = {}         # "POST /v1/payment_intents" -> count
            self.requests = []      # request log
            self.idem = {}          # (key, idempotency key) -> entry
            self.injections = []
            self.events = []        # ids, oldest first

    # -------------------------------------------------------------- objects
    def add(self, kind, obj):
        self.order += 1
        obj["_order"] = self.order
        self.objects[kind][obj["id"]] = obj
        self.created[kind] = self.created.get(kind, 0) + 1
        return obj

    def get(self, kind, oid, param=None, status=404):
        obj = self.objects[kind].get(oid)
        if obj is None:
            raise missing(kind.replace("_", " "), oid, param, status)
        return obj

    def event(self, etype, obj):
        evt = {"id": new_id("evt"), "object": "event", "type": etype, "api_version": API_VERSION,
               "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
               "data": {"object": public(obj)}}
        self.add("event", evt)
        self.events.append(evt["id"])
        if self.webhook["auto"] and self.webhook["url"]:
            self.outbox.put(evt["id"])
        return evt

    # -------------------------------------------------------------- injections
    def take_injection(self, method, path):
        with self.lock:
            for inj in self.injections:
                if inj["method"] == method and path.startswith(inj["path"]) and inj["count"] > 0:
                    inj["count"] -= 1
                    return dict(inj)
        return None


def public(obj):
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def paginate(state, kind, params, keep):
    limit = as_int(params, "limit", minimum=1, maximum=100) or 10
    items = [o for o in state.objects[kind].values() if keep(o)]
    created = params.get("created")
    if isinstance(created, dict):
        for op, fn in (("gte", lambda a, b: a >= b), ("gt", lambda a, b: a > b),
                       ("lte", lambda a, b: a <= b), ("lt", lambda a, b: a < b)):
            if op in created:
                bound = as_int(created, op)
                items = [o for o in items if fn(o["created"], bound)]
    elif created is not None:
        bound = as_int(params, "created")
        items = [o for o in items if o["created"] == bound]
    items.sort(key=lambda o: o["_order"], reverse=True)
    after = params.get("starting_after")
    if after:
        ids = [o["id"] for o in items]
        if after not in ids:
            raise missing(kind.replace("_", " "), after, "starting_after", 400)
        items = items[ids.index(after) + 1:]
    page = items[:limit]
    return {"object": "list", "data": [public(o) for o in page], "has_more": len(items) > limit,
            "url": "/v1/" + kind + "s"}


# ------------------------------------------------------------------ resources

def materialize_pm(state, pm_id, param="payment_method"):
    """A payment method object for an id: a test token makes a new one, as Stripe does."""
    if pm_id in TEST_CARDS:
        behaviour, brand, last4, _ = TEST_CARDS[pm_id]
        pm = {"id": new_id("pm"), "object": "payment_method", "type": "card",
              "card": {"brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034,
                       "funding": "credit", "country": "US"},
              "customer": None, "created": int(time.time()), "livemode": False,
              "metadata": {}, "_template": pm_id}
        return state.add("payment_method", pm)
    return state.get("payment_method", pm_id, param, 400)


def customer_create(state, params, _m):
    cus = {"id": new_id("cus"), "object": "customer", "created": int(time.time()),
           "email": params.get("email"), "name": params.get("name"), "livemode": False,
           "metadata": metadata_of(params), "invoice_settings": {"default_payment_method": None}}
    state.add("customer", cus)
    state.event("customer.created", cus)
    return 200, cus


def customer_update(state, params, m):
    cus = state.get("customer", m["id"])
    settings = params.get("invoice_settings", {})
    if isinstance(settings, dict) and "default_payment_method" in settings:
        pm_id = settings["default_payment_method"] or None
        if pm_id is not None:
            pm = state.get("payment_method", pm_id, "invoice_settings[default_payment_method]", 400)
            if pm.get("customer") != cus["id"]:
                raise StripeError(400, "invalid_request_error",
                                  "The payment method is not attached to this customer.",
                                  param="invoice_settings[default_payment_method]")
        cus["invoice_settings"]["default_payment_method"] = pm_id
    cus["metadata"].update(metadata_of(params))
    state.event("customer.updated", cus)
    return 200, cus


def pi_create(state, params, _m):
    amount = as_int(params, "amount", required=True, minimum=1, maximum=99999999)
    currency = params.get("currency", "")
    if not re.fullmatch(r"[a-zA-Z]{3}", currency or ""):
        raise StripeError(400, "invalid_request_error", "Invalid currency.",
                          code="parameter_invalid", param="currency")
    customer = params.get("customer") or None
    if customer is not None:
        state.get("customer", customer, "customer", 400)
    pi = {"id": new_id("pi"), "object": "payment_intent", "amount": amount,
          "amount_received": 0, "currency": currency.lower(), "customer": customer,
          "description": params.get("description"), "metadata": metadata_of(params),
          "payment_method": None, "status": "requires_payment_method", "created": int(time.time()),
          "livemode": False, "last_payment_error": None, "cancellation_reason": None,
          "next_action": None, "latest_charge": None, "capture_method": "automatic",
          "confirmation_method": "automatic", "_refunded": 0}
    pi["client_secret"] = pi["id"] + "_secret_" + secrets.token_hex(12)
    pm_id = params.get("payment_method") or None
    pm = materialize_pm(state, pm_id) if pm_id else None
    if pm is not None:
        check_pm_customer(pm, customer)
        pi["payment_method"] = pm["id"]
        pi["status"] = "requires_confirmation"
    state.add("payment_intent", pi)
    state.event("payment_intent.created", pi)
    if as_bool(params, "confirm"):
        return confirm(state, pi, None, params.get("_inject"))
    return 200, pi


def check_pm_customer(pm, customer):
    if pm.get("customer") and customer and pm["customer"] != customer:
        raise StripeError(400, "invalid_request_error",
                          "The payment method belongs to another customer.",
                          param="payment_method")


def confirm(state, pi, pm, inject):
    if pi["status"] not in CONFIRMABLE:
        raise StripeError(400, "invalid_request_error",
                          f"This PaymentIntent's status is {pi['status']}: it cannot be confirmed.",
                          code="payment_intent_unexpected_state", payment_intent=public(pi))
    if pm is not None:
        check_pm_customer(pm, pi["customer"])
        pi["payment_method"] = pm["id"]
    if pi["payment_method"] is None:
        raise StripeError(400, "invalid_request_error",
                          "You cannot confirm this PaymentIntent because it's missing a payment "
                          "method.", code="payment_intent_unexpected_state",
                          param="payment_method")
    used = state.objects["payment_method"][pi["payment_method"]]
    behaviour, _, _, decline = TEST_CARDS.get(used.get("_template"), ("succeed",) + (None,) * 3)
    if inject and inject["error"] == "card_declined":
        behaviour, decline = "decline", inject.get("decline_code") or "generic_decline"
    pi["last_payment_error"] = None
    if behaviour == "decline":
        return decline_pi(state, pi, decline)
    if behaviour == "action":
        pi["status"] = "requires_action"
        pi["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
        state.event("payment_intent.requires_action", pi)
    elif behaviour == "processing":
        pi["status"] = "processing"
        state.event("payment_intent.processing", pi)
    else:
        succeed_pi(state, pi)
    return 200, pi


def decline_pi(state, pi, decline_code):
    messages = {"insufficient_funds": "Your card has insufficient funds.",
                "expired_card": "Your card has expired."}
    code = "expired_card" if decline_code == "expired_card" else "card_declined"
    message = messages.get(decline_code, "Your card was declined.")
    pi["status"] = "requires_payment_method"
    pi["next_action"] = None
    pi["last_payment_error"] = {"type": "card_error", "code": code, "decline_code": decline_code,
                                "message": message, "payment_method": {"id": pi["payment_method"]}}
    state.event("payment_intent.payment_failed", pi)
    raise StripeError(402, "card_error", message, code=code, decline_code=decline_code,
                      payment_intent=public(pi))


def succeed_pi(state, pi):
    charge = {"id": new_id("ch"), "object": "charge", "amount": pi["amount"],
              "amount_refunded": 0, "currency": pi["currency"], "payment_intent": pi["id"],
              "status": "succeeded", "created": int(time.time()), "refunded": False}
    state.add("charge", charge)
    pi.update(status="succeeded", amount_received=pi["amount"], latest_charge=charge["id"],
              next_action=None)
    state.event("charge.succeeded", charge)
    state.event("payment_intent.succeeded", pi)


def pi_confirm(state, params, m):
    pi = state.get("payment_intent", m["id"])
    pm_id = params.get("payment_method") or None
    pm = materialize_pm(state, pm_id) if pm_id else None
    return confirm(state, pi, pm, params.get("_inject"))


def pi_cancel(state, params, m):
    pi = state.get("payment_intent", m["id"])
    if pi["status"] not in CANCELABLE:
        raise StripeError(400, "invalid_request_error",
                          f"You cannot cancel this PaymentIntent because it has a status of "
                          f"{pi['status']}.", code="payment_intent_unexpected_state",
                          payment_intent=public(pi))
    reason = params.get("cancellation_reason") or None
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer", "abandoned"):
        raise StripeError(400, "invalid_request_error", "Invalid cancellation_reason",
                          code="parameter_invalid", param="cancellation_reason")
    pi.update(status="canceled", cancellation_reason=reason, next_action=None)
    state.event("payment_intent.canceled", pi)
    return 200, pi


def pi_update(state, params, m):
    pi = state.get("payment_intent", m["id"])
    pi["metadata"].update(metadata_of(params))
    if "description" in params:
        pi["description"] = params["description"] or None
    return 200, pi


def refund_create(state, params, _m):
    pi_id = params.get("payment_intent")
    if not pi_id:
        raise StripeError(400, "invalid_request_error", "Missing required param: payment_intent.",
                          code="parameter_missing", param="payment_intent")
    pi = state.get("payment_intent", pi_id, "payment_intent", 400)
    if pi["status"] != "succeeded":
        raise StripeError(400, "invalid_request_error",
                          "This PaymentIntent does not have a successful charge to refund.",
                          code="charge_not_refundable", param="payment_intent")
    remaining = pi["amount"] - pi["_refunded"]
    if remaining <= 0:
        raise StripeError(400, "invalid_request_error", "The charge has already been refunded.",
                          code="charge_already_refunded")
    amount = as_int(params, "amount", minimum=1)
    amount = remaining if amount is None else amount
    if amount > remaining:
        raise StripeError(400, "invalid_request_error",
                          f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                          f"({remaining})", code="amount_too_large", param="amount")
    reason = params.get("reason") or None
    if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
        raise StripeError(400, "invalid_request_error", "Invalid reason",
                          code="parameter_invalid", param="reason")
    inject = params.get("_inject")
    status = "pending" if inject and inject["error"] == "refund_pending" else "succeeded"
    re_ = {"id": new_id("re"), "object": "refund", "amount": amount, "currency": pi["currency"],
           "payment_intent": pi["id"], "charge": pi["latest_charge"], "reason": reason,
           "status": status, "created": int(time.time()), "metadata": metadata_of(params),
           "failure_reason": None}
    pi["_refunded"] += amount
    state.add("refund", re_)
    state.event("refund.created", re_)
    if status == "succeeded":
        charge_refunded(state, pi)
    return 200, re_


def charge_refunded(state, pi):
    charge = state.objects["charge"].get(pi["latest_charge"])
    if charge is not None:
        charge["amount_refunded"] = pi["_refunded"]
        charge["refunded"] = pi["_refunded"] >= pi["amount"]
        state.event("charge.refunded", charge)


def pm_attach(state, params, m):
    customer = params.get("customer")
    if not customer:
        raise StripeError(400, "invalid_request_error", "Missing required param: customer.",
                          code="parameter_missing", param="customer")
    state.get("customer", customer, "customer", 400)
    pm = materialize_pm(state, m["id"]) if m["id"] in TEST_CARDS else \
        state.get("payment_method", m["id"])
    if pm.get("customer") and pm["customer"] != customer:
        raise StripeError(400, "invalid_request_error",
                          "The payment method you provided has already been attached to a "
                          "customer.", code="payment_method_already_attached")
    pm["customer"] = customer
    state.event("payment_method.attached", pm)
    return 200, pm


def pm_detach(state, _params, m):
    pm = state.get("payment_method", m["id"])
    if not pm.get("customer"):
        raise StripeError(400, "invalid_request_error",
                          "The payment method you provided is not attached to a customer.",
                          code="payment_method_unexpected_state")
    pm["customer"] = None
    state.event("payment_method.detached", pm)
    return 200, pm


def getter(kind):
    def get(state, _params, m):
        return 200, state.get(kind, m["id"])
    return get


def pi_list(state, params, _m):
    customer = params.get("customer")
    return 200, paginate(state, "payment_intent", params,
                         lambda o: customer is None or o["customer"] == customer)


def refund_list(state, params, _m):
    pi_id = params.get("payment_intent")
    return 200, paginate(state, "refund", params,
                         lambda o: pi_id is None or o["payment_intent"] == pi_id)


def pm_list(state, params, _m):
    customer = params.get("customer")
    ptype = params.get("type")
    return 200, paginate(state, "payment_method", params,
                         lambda o: (customer is None or o["customer"] == customer) and
                         (ptype is None or o["type"] == ptype))


def event_list(state, params, _m):
    etype = params.get("type")
    return 200, paginate(state, "event", params, lambda o: etype is None or o["type"] == etype)


ROUTES = [
    ("POST", r"/v1/customers", customer_create),
    ("GET", r"/v1/customers/(?P<id>[^/]+)", getter("customer")),
    ("POST", r"/v1/customers/(?P<id>[^/]+)", customer_update),
    ("POST", r"/v1/payment_intents", pi_create),
    ("GET", r"/v1/payment_intents", pi_list),
    ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", getter("payment_intent")),
    ("POST", r"/v1/payment_intents/(?P<id>[^/]+)", pi_update),
    ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/confirm", pi_confirm),
    ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/cancel", pi_cancel),
    ("POST", r"/v1/refunds", refund_create),
    ("GET", r"/v1/refunds", refund_list),
    ("GET", r"/v1/refunds/(?P<id>[^/]+)", getter("refund")),
    ("GET", r"/v1/payment_methods", pm_list),
    ("GET", r"/v1/payment_methods/(?P<id>[^/]+)", getter("payment_method")),
    ("POST", r"/v1/payment_methods/(?P<id>[^/]+)/attach", pm_attach),
    ("POST", r"/v1/payment_methods/(?P<id>[^/]+)/detach", pm_detach),
    ("GET", r"/v1/events", event_list),
    ("GET", r"/v1/events/(?P<id>[^/]+)", getter("event")),
]


def route_of(method, path):
    for rmethod, pattern, fn in ROUTES + fake_stripe_billing.ROUTES:
        m = re.fullmatch(pattern, path)
        if rmethod == method and m:
            return fn, m.groupdict(), f"{method} {re.sub(r'/(pi|cus|pm|re|evt|ch|du|prod|price|sub|in|si)_[0-9a-f]{24}(?=/|$)', '/:id', path)}"
    return None, None, f"{method} {path}"


def advance_object(state, kind, oid, action, body):
    """Moves an object on as the outside world would (3DS done, bank settled...)."""
    if kind == "refunds":
        re_ = state.get("refund", oid)
        if action not in ("succeed", "fail") or re_["status"] != "pending":
            raise StripeError(400, "invalid_request_error", f"cannot {action} a {re_['status']} refund")
        pi = state.objects["payment_intent"][re_["payment_intent"]]
        if action == "succeed":
            re_["status"] = "succeeded"
            charge_refunded(state, pi)
        else:
            re_.update(status="failed", failure_reason=body.get("failure_reason", "unknown"))
            pi["_refunded"] -= re_["amount"]
            state.event("refund.failed", re_)
        state.event("refund.updated", re_)
        return re_
    pi = state.get("payment_intent", oid)
    if pi["status"] in ("succeeded", "canceled"):
        raise StripeError(400, "invalid_request_error", f"the intent is already {pi['status']}")
    if action == "succeed":
        succeed_pi(state, pi)
    elif action == "process":
        pi["status"] = "processing"
        state.event("payment_intent.processing", pi)
    elif action == "require_action":
        pi.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
        state.event("payment_intent.requires_action", pi)
    elif action == "fail":
        try:
            decline_pi(state, pi, body.get("decline_code", "generic_decline"))
        except StripeError:
            pass
    else:
        raise StripeError(400, "invalid_request_error", f"unknown action {action}")
    return pi


import fake_stripe_billing  # noqa: E402 (it reads this module's helpers at call time)
