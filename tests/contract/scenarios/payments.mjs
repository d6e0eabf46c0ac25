// Payments: /api/v1/payments*, /api/v1/payment-methods*, /api/v1/webhooks/stripe.
//
// The setup starts the fake Stripe (tests/fakes/fake_stripe.py) on a free port and a
// `payments` server pointed at it; `main` has no Stripe key, so it answers the 503s of an
// unconfigured server. Its own users have unique e-mail addresses; every payment, method and
// event a call needs is prepared for that call alone.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { signUp } from '../lib/auth.mjs';

const FAKE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fakes/fake_stripe.py');
const WEBHOOK_SECRET = 'whsec_contract_payments';
let fakeBase = null;

export const servers = {
  payments: () => ({
    HERALD_STRIPE_API_BASE: fakeBase ?? 'http://127.0.0.1:1',
    HERALD_STRIPE_SECRET_KEY: 'sk_test_contract',
    HERALD_STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    HERALD_AUTH_RATE_LIMIT: '1000000',
  }),
};

/** Starts the fake Stripe; it exits with this process. Resolves to its base URL. */
async function startFake() {
  const file = path.join(os.tmpdir(), `herald-contract-fake-stripe-${process.pid}.port`);
  rmSync(file, { force: true });
  const child = spawn('/usr/bin/python3', [FAKE, '--port', '0', '--port-file', file, '--quiet', '--exit-with-parent'],
    { stdio: 'ignore' });
  child.unref();
  process.on('exit', () => child.kill('SIGTERM'));
  for (let i = 0; i < 200; i++) {
    if (existsSync(file)) {
      const port = Number(readFileSync(file, 'utf8'));
      if (port > 0) {
        rmSync(file, { force: true });
        return `http://127.0.0.1:${port}`;
      }
    }
    if (child.exitCode !== null) throw new Error(`setup: fake_stripe.py exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('setup: fake_stripe.py did not start within 10 s');
}

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);

function must(res, status, what) {
  if (res.error || res.status !== status) {
    throw new Error(`setup: ${what}: expected ${status}, got ${res.error ?? `${res.status} ${res.text.slice(0, 300)}`}`);
  }
  return res.json;
}

/** The fake Stripe's base URL once the payments scenarios started it (else null). */
export const fakeStripeBase = () => fakeBase;

/** A Stripe-Signature header for text, signed now (plus offset seconds). */
export function signature(text, secret = WEBHOOK_SECRET, offset = 0) {
  const t = Math.floor(Date.now() / 1000) + offset;
  return `t=${t},v1=${createHmac('sha256', secret).update(`${t}.${text}`).digest('hex')}`;
}

export default async function payments(h) {
  fakeBase = await startFake();
  const tag = randomBytes(5).toString('hex');
  const password = `Contract passphrase ${tag}`;
  const register = async (who) => {
    const account = await signUp(h, { email: `contract-pay-${tag}-${who}@example.test`, password });
    return { token: account.access };
  };
  const payer = await register('payer');
  const other = await register('other');
  const key = () => ({ 'Idempotency-Key': randomUUID() });
  const pay = async (body, what) => must(await h.call('createPayment', { headers: key(), body, auth: payer }, 'payments'),
    201, what).id;
  const open = { amount: 4200, currency: 'EUR', payment_type: 'coaching_session' };
  const charged = { amount: 5000, currency: 'USD', payment_type: 'tournament_fee', payment_method_id: 'pm_card_visa', confirm: true };

  const toConfirm = await pay(open, 'a payment to confirm');
  const toCancel = await pay(open, 'a payment to cancel');
  const toRefund = await pay(charged, 'a payment to refund');
  const savedMethod = async (what) => must(await h.call('createPaymentMethod',
    { body: { provider_payment_method_id: 'pm_card_mastercard' }, auth: payer }, 'payments'), 201, what).id;
  const toDelete = await savedMethod('a method to delete');
  const toDefault = await savedMethod('a method to make the default');
  const event = JSON.stringify({
    id: `evt_contract_${tag}`, object: 'event', type: 'customer.created', created: Math.floor(Date.now() / 1000),
    data: { object: { id: `cus_contract_${tag}`, object: 'customer' } },
  });
  const P = 'payments';

  return [
    // --- createPayment ----------------------------------------------------------------------
    {
      name: 'a card payment, charged at once',
      operationId: 'createPayment',
      request: { headers: key(), body: { ...charged, description: 'Spring open entry', metadata: { team: 'Falcons' } }, auth: payer },
      expect: 201,
      server: P,
      check: (res) => [
        res.json?.status === 'succeeded' ? null : `status ${res.json?.status}`,
        res.json?.fees?.net === 5000 - res.json?.fees?.provider - res.json?.fees?.platform ? null : 'fees do not add up',
      ],
    },
    {
      name: 'invalid fields are all listed',
      operationId: 'createPayment',
      request: { headers: key(), body: { amount: 0, currency: 'XYZ', payment_type: 'tournament_fee' }, auth: payer },
      expect: 400,
      server: P,
      check: (res) => (res.json?.error?.errors?.length === 2 ? [] : `errors ${JSON.stringify(res.json?.error?.errors)}`),
    },
    {
      name: 'a declined card is a 402 with the decline code',
      operationId: 'createPayment',
      request: { headers: key(), body: { ...charged, payment_method_id: 'pm_card_chargeDeclinedInsufficientFunds' }, auth: payer },
      expect: 402,
      server: P,
      check: (res) => (res.json?.error?.decline_code === 'insufficient_funds' ? [] : `decline_code ${res.json?.error?.decline_code}`),
    },
    {
      name: 'confirming with no method at all',
      operationId: 'createPayment',
      request: { headers: key(), body: { ...open, confirm: true }, auth: other },
      expect: 422,
      server: P,
      check: code('payment_method_required'),
    },
    {
      name: 'without credentials',
      operationId: 'createPayment',
      request: { headers: key(), body: charged },
      expect: 401,
      server: P,
    },
    {
      name: 'a server without a Stripe key',
      operationId: 'createPayment',
      request: { headers: key(), body: charged, auth: payer },
      expect: 503,
      check: code('payments_not_configured'),
    },
    // --- listPayments / getPayment -----------------------------------------------------------
    {
      name: 'the payer lists succeeded payments',
      operationId: 'listPayments',
      request: { query: { status: 'succeeded', limit: 5 }, auth: payer },
      expect: 200,
      server: P,
    },
    {
      name: 'an unknown status filter',
      operationId: 'listPayments',
      request: { query: { status: 'paid' }, auth: payer },
      expect: 400,
      server: P,
      check: code('invalid_filter'),
    },
    {
      name: 'the payer reads a payment with its refunds',
      operationId: 'getPayment',
      request: { params: { id: toRefund }, auth: payer },
      expect: 200,
      server: P,
    },
    {
      name: "another user's payment is a 404",
      operationId: 'getPayment',
      request: { params: { id: toRefund }, auth: other },
      expect: 404,
      server: P,
    },
    // --- confirmPayment / cancelPayment -------------------------------------------------------
    {
      name: 'confirming with a card',
      operationId: 'confirmPayment',
      request: { params: { id: toConfirm }, body: { payment_method_id: 'pm_card_visa' }, auth: payer },
      expect: 200,
      server: P,
      check: (res) => (res.json?.status === 'succeeded' ? [] : `status ${res.json?.status}`),
    },
    {
      name: 'a succeeded payment cannot be confirmed again',
      operationId: 'confirmPayment',
      request: { params: { id: toConfirm }, body: { payment_method_id: 'pm_card_visa' }, auth: payer },
      expect: 422,
      server: P,
      check: code('payment_not_confirmable'),
    },
    {
      name: 'canceling an open payment',
      operationId: 'cancelPayment',
      request: { params: { id: toCancel }, body: { cancellation_reason: 'requested_by_customer' }, auth: payer },
      expect: 200,
      server: P,
    },
    {
      name: 'a canceled payment cannot be canceled again',
      operationId: 'cancelPayment',
      request: { params: { id: toCancel }, auth: payer },
      expect: 422,
      server: P,
      check: code('payment_not_cancelable'),
    },
    // --- createRefund / listRefunds ------------------------------------------------------------
    {
      name: 'an admin refunds part of a payment',
      operationId: 'createRefund',
      request: { params: { id: toRefund }, headers: key(), body: { amount: 1000, reason: 'requested_by_customer' }, auth: 'admin' },
      expect: 201,
      server: P,
    },
    {
      name: 'more than what is left to refund',
      operationId: 'createRefund',
      request: { params: { id: toRefund }, body: { amount: 4001, reason: 'duplicate' }, auth: 'admin' },
      expect: 422,
      server: P,
      check: code('amount_exceeds_refundable'),
    },
    {
      name: 'users cannot refund',
      operationId: 'createRefund',
      request: { params: { id: toRefund }, body: { reason: 'duplicate' }, auth: payer },
      expect: 403,
      server: P,
    },
    {
      name: 'the payer lists the refunds',
      operationId: 'listRefunds',
      request: { params: { id: toRefund }, auth: payer },
      expect: 200,
      server: P,
      check: (res) => (res.json?.data?.length === 1 ? [] : `${res.json?.data?.length} refunds`),
    },
    {
      name: "another user's payment's refunds are a 404",
      operationId: 'listRefunds',
      request: { params: { id: toRefund }, auth: other },
      expect: 404,
      server: P,
    },
    // --- payment methods ------------------------------------------------------------------------
    {
      name: 'saving a card',
      operationId: 'createPaymentMethod',
      request: { headers: key(), body: { provider_payment_method_id: 'pm_card_amex' }, auth: other },
      expect: 201,
      server: P,
      check: (res) => (res.json?.is_default === true ? [] : 'the first saved method is not the default'),
    },
    {
      name: 'a payment method Stripe does not know',
      operationId: 'createPaymentMethod',
      request: { body: { provider_payment_method_id: 'pm_does_not_exist' }, auth: payer },
      expect: 400,
      server: P,
      check: code('invalid_payment_method'),
    },
    {
      name: 'listing saved methods',
      operationId: 'listPaymentMethods',
      request: { query: { limit: 10 }, auth: payer },
      expect: 200,
      server: P,
    },
    {
      name: 'a limit out of range',
      operationId: 'listPaymentMethods',
      request: { query: { limit: 0 }, auth: payer },
      expect: 400,
      server: P,
    },
    {
      name: 'making a method the default',
      operationId: 'setDefaultPaymentMethod',
      request: { params: { id: toDefault }, auth: payer },
      expect: 200,
      server: P,
      check: (res) => (res.json?.is_default === true ? [] : 'not the default'),
    },
    {
      name: "another user's method is a 404",
      operationId: 'setDefaultPaymentMethod',
      request: { params: { id: toDefault }, auth: other },
      expect: 404,
      server: P,
    },
    {
      name: 'deleting a saved method',
      operationId: 'deletePaymentMethod',
      request: { params: { id: toDelete }, auth: payer },
      expect: 204,
      server: P,
    },
    {
      name: 'a deleted method is gone',
      operationId: 'deletePaymentMethod',
      request: { params: { id: toDelete }, auth: payer },
      expect: 404,
      server: P,
    },
    // --- receiveStripeWebhook -------------------------------------------------------------------
    {
      name: 'a signed event is received',
      operationId: 'receiveStripeWebhook',
      request: { headers: { 'Stripe-Signature': signature(event) }, rawBody: event, contentType: 'application/json' },
      expect: 200,
      server: P,
      check: (res) => (res.json?.received === true ? [] : 'not received'),
    },
    {
      name: 'a signature more than 300 s old',
      operationId: 'receiveStripeWebhook',
      request: { headers: { 'Stripe-Signature': signature(event, WEBHOOK_SECRET, -400) }, rawBody: event, contentType: 'application/json' },
      expect: 400,
      server: P,
      check: code('invalid_signature'),
    },
    {
      name: 'a server without a webhook secret',
      operationId: 'receiveStripeWebhook',
      request: { headers: { 'Stripe-Signature': signature(event) }, rawBody: event, contentType: 'application/json' },
      expect: 503,
      check: code('webhooks_not_configured'),
    },
  ];
}
