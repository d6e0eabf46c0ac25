#!/usr/bin/python3
"""reconcile_seed.py - seeds N succeeded payments on both sides for a ledger-run benchmark:
PaymentIntents at the fake Stripe (through its Stripe API; confirmed with pm_card_visa) and
the matching payments rows (one COPY through psql), for one new user.

Usage: bench/reconcile_seed.py --fake http://127.0.0.1:PORT --count 10000
       (HERALD_DATABASE_URL set; then: herald-reconcile run --since TODAY)
"""
import argparse
import concurrent.futures
import json
import os
import subprocess
import urllib.request
import uuid


def create_pi(base, key, i):
    body = f"amount={1000 + i % 500}&currency=eur&payment_method=pm_card_visa&confirm=true"
    req = urllib.request.Request(base + "/v1/payment_intents", data=body.encode(), method="POST",
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=30) as r:
        pi = json.load(r)
    return pi["id"], pi["amount"]


def psql(sql, stdin=None):
    return subprocess.run(["psql", os.environ["HERALD_DATABASE_URL"], "-X", "-q", "-At",
                           "-v", "ON_ERROR_STOP=1", "-c", sql], input=stdin, text=True,
                          check=True, capture_output=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fake", required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--key", default="sk_test_herald")
    a = ap.parse_args()
    with concurrent.futures.ThreadPoolExecutor(16) as ex:
        pis = list(ex.map(lambda i: create_pi(a.fake, a.key, i), range(a.count)))
    user = psql("INSERT INTO users (email, password_hash) VALUES ('bench-" + uuid.uuid4().hex +
                "@example.test', 'x') RETURNING id")
    rows = "".join(f"{user}\tother\t{amt}\tEUR\tsucceeded\t{pi}\n" for pi, amt in pis)
    psql("COPY payments (user_id, payment_type, amount, currency, status, "
         "provider_payment_intent_id) FROM STDIN", rows)
    print(f"seeded {len(pis)} payments for user {user}")


if __name__ == "__main__":
    main()
