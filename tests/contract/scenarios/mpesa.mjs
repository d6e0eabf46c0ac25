// M-Pesa: createPayment with provider mpesa, getPaymentConfig, receiveMpesaCallback, and
// getPaymentReceipt and the refund requests of the payment the callback settled,
// getPaymentSummary.
//
// The setup starts the fake M-Pesa (tests/fakes/fake_mpesa.py) on a free port and an `mpesa`
// server pointed at it (the payer answers at once); `main` has no M-Pesa credentials.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { signUp } from '../lib/auth.mjs';

const FAKE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fakes/fake_mpesa.py');
const SECRET = 'contract-mpesa-callback-secret-0123456789';
let fakeBase = null;

export const servers = {
  mpesa: () => ({
    HERALD_MPESA_API_BASE: fakeBase ?? 'http://127.0.0.1:1',
    HERALD_MPESA_CONSUMER_KEY: 'herald-key',
    HERALD_MPESA_CONSUMER_SECRET: 'herald-secret',
    HERALD_MPESA_SHORTCODE: '174379',
    HERALD_MPESA_PASSKEY: 'herald-passkey',
    HERALD_MPESA_CALLBACK_BASE_URL: 'http://127.0.0.1:1',
    HERALD_MPESA_CALLBACK_SECRET: SECRET,
    HERALD_MPESA_INITIATOR: 'testapi',
    HERALD_MPESA_SECURITY_CREDENTIAL: 'c2VjdXJpdHktY3JlZGVudGlhbA==',
    HERALD_PAYMENT_DEFAULT_PROVIDER: 'mpesa',
    HERALD_STRIPE_PUBLISHABLE_KEY: 'pk_test_contract',
    HERALD_AUTH_RATE_LIMIT: '1000000',
  }),
};

/** Starts the fake M-Pesa; it exits with this process. Resolves to its base URL. */
async function startFake() {
  const file = path.join(os.tmpdir(), `herald-contract-fake-mpesa-${process.pid}.port`);
  rmSync(file, { force: true });
  const child = spawn('/usr/bin/python3', [FAKE, '--port', '0', '--port-file', file, '--delay-ms', '0',
    '--quiet', '--exit-with-parent'], { stdio: 'ignore' });
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
    if (child.exitCode !== null) throw new Error(`setup: fake_mpesa.py exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('setup: fake_mpesa.py did not start within 10 s');
}

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);

export default async function mpesa(h) {
  fakeBase = await startFake();
  const tag = randomBytes(5).toString('hex');
  const account = await signUp(h, { email: `contract-mpesa-${tag}@example.test`, password: `Contract passphrase ${tag}` });
  const payer = { token: account.access };
  const key = () => ({ 'Idempotency-Key': randomUUID() });
  const push = { amount: 15000, currency: 'KES', payment_type: 'venue_booking', phone: '+254708374149' };
  const M = 'mpesa';
  // A succeeded M-Pesa payment: the push, then (the fake's payer answers at once) its callback.
  const settledPayment = async (receipt) => {
    const made = await h.call('createPayment', { headers: key(), body: push, auth: payer }, M);
    if (made.status !== 201) throw new Error(`setup: an M-Pesa payment: ${made.status} ${made.text.slice(0, 300)}`);
    const text = JSON.stringify({
      Body: {
        stkCallback: {
          MerchantRequestID: '29115-34620561-1', CheckoutRequestID: made.json.provider_payment_intent_id, ResultCode: 0,
          ResultDesc: 'The service request is processed successfully.',
          CallbackMetadata: { Item: [{ Name: 'Amount', Value: 150 }, { Name: 'MpesaReceiptNumber', Value: receipt }] },
        },
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const settled = await h.call('receiveMpesaCallback', { params: { secret: SECRET }, rawBody: text,
      contentType: 'application/json' }, M);
    if (settled.json?.outcome !== 'applied') throw new Error(`setup: the callback: ${settled.status} ${settled.text}`);
    return { id: made.json.id, callback: text };
  };
  const first = await settledPayment('NLJ7RT61SV');
  const second = await settledPayment('NLJ7RT61SW');
  const paid = first.id;
  const callback = first.callback;
  const ask = async (payment, reason) => {
    const made = await h.call('createRefundRequest', { params: { id: payment }, body: { reason, amount: 5000 }, auth: payer }, M);
    if (made.status !== 201) throw new Error(`setup: a refund request: ${made.status} ${made.text.slice(0, 300)}`);
    return made.json.id;
  };
  const toReject = await ask(paid, 'Rain'); // rejected below, then the payment is asked again
  const toApprove = await ask(second.id, 'Booked the wrong court');
  return [
    {
      name: 'an M-Pesa STK push (the default provider here)',
      operationId: 'createPayment',
      request: { headers: key(), body: { ...push, provider: 'mpesa' }, auth: payer },
      expect: 201,
      server: M,
      check: (res) => (res.json?.status === 'processing' && res.json?.provider === 'mpesa' ? [] : `status ${res.json?.status}`),
    },
    {
      name: 'M-Pesa takes whole shillings from a Kenyan number',
      operationId: 'createPayment',
      request: { headers: key(), body: { ...push, amount: 15050, phone: '+15555550100' }, auth: payer },
      expect: 400,
      server: M,
      check: (res) => (res.json?.error?.errors?.length === 2 ? [] : `errors ${JSON.stringify(res.json?.error?.errors)}`),
    },
    {
      name: 'the providers, currencies and publishable key',
      operationId: 'getPaymentConfig',
      request: { auth: payer },
      expect: 200,
      server: M,
      check: (res) => (res.json?.providers?.[1]?.enabled === true && res.json?.default_provider === 'mpesa' ? [] : JSON.stringify(res.json)),
    },
    {
      name: 'the configuration needs a signed-in caller',
      operationId: 'getPaymentConfig',
      request: {},
      expect: 401,
      server: M,
    },
    {
      name: 'an STK push result, confirmed by the status query',
      operationId: 'receiveMpesaCallback',
      request: { params: { secret: SECRET }, rawBody: callback, contentType: 'application/json' },
      expect: 200,
      server: M,
      check: (res) => (res.json?.received === true ? [] : JSON.stringify(res.json)),
    },
    {
      name: 'the receipt of a succeeded payment',
      operationId: 'getPaymentReceipt',
      request: { params: { id: paid }, auth: payer },
      expect: 200,
      server: M,
      check: (res) => (/^[0-9]{4}-[0-9]{6}$/.test(res.json?.number ?? '') && res.json?.provider_reference === 'NLJ7RT61SV'
        ? [] : JSON.stringify(res.json)),
    },
    {
      name: 'no receipt before a payment succeeds',
      operationId: 'getPaymentReceipt',
      request: { params: { id: randomUUID() }, auth: payer },
      expect: 404,
      server: M,
    },
    {
      name: 'the payment figures of a period',
      operationId: 'getPaymentSummary',
      request: { query: { from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' }, auth: 'admin' },
      expect: 200,
      server: M,
    },
    {
      name: 'a period that ends before it starts',
      operationId: 'getPaymentSummary',
      request: { query: { from: '2026-03-02T00:00:00Z', to: '2026-03-01T00:00:00Z' }, auth: 'admin' },
      expect: 400,
      server: M,
      check: code('invalid_period'),
    },
    {
      name: 'users do not see the figures',
      operationId: 'getPaymentSummary',
      request: { auth: payer },
      expect: 403,
      server: M,
    },
    {
      name: 'a second open request of one payment',
      operationId: 'createRefundRequest',
      request: { params: { id: paid }, body: { reason: 'Again' }, auth: payer },
      expect: 409,
      server: M,
      check: code('refund_request_open'),
    },
    {
      name: 'admins list the pending requests',
      operationId: 'listRefundRequests',
      request: { query: { status: 'pending', limit: 10 }, auth: 'admin' },
      expect: 200,
      server: M,
    },
    {
      name: 'an unknown status filter',
      operationId: 'listRefundRequests',
      request: { query: { status: 'open' }, auth: 'admin' },
      expect: 400,
      server: M,
    },
    {
      name: 'rejecting needs a reason',
      operationId: 'rejectRefundRequest',
      request: { params: { id: toReject }, body: {}, auth: 'admin' },
      expect: 400,
      server: M,
    },
    {
      name: 'an admin rejects a request with a reason',
      operationId: 'rejectRefundRequest',
      request: { params: { id: toReject }, body: { reason: 'The court was booked.' }, auth: 'admin' },
      expect: 200,
      server: M,
      check: (res) => (res.json?.status === 'rejected' ? [] : `status ${res.json?.status}`),
    },
    {
      name: 'a decided request cannot be rejected again',
      operationId: 'rejectRefundRequest',
      request: { params: { id: toReject }, body: { reason: 'Twice' }, auth: 'admin' },
      expect: 404,
      server: M,
    },
    {
      name: 'the payer asks again once the request is decided',
      operationId: 'createRefundRequest',
      request: { params: { id: paid }, body: { reason: 'It rained all day.' }, auth: payer },
      expect: 201,
      server: M,
    },
    {
      name: 'an admin approves part of a request: the reversal is asked for',
      operationId: 'approveRefundRequest',
      request: { params: { id: toApprove }, body: { amount: 3000 }, auth: 'admin' },
      expect: 200,
      server: M,
      check: (res) => (res.json?.status === 'approved' && res.json?.refund_id ? [] : JSON.stringify(res.json)),
    },
    {
      name: 'a decided request cannot be approved again',
      operationId: 'approveRefundRequest',
      request: { params: { id: toApprove }, auth: 'admin' },
      expect: 404,
      server: M,
    },
    {
      name: 'a wrong secret is a 404',
      operationId: 'receiveMpesaCallback',
      request: { params: { secret: 'not-the-secret' }, rawBody: callback, contentType: 'application/json' },
      expect: 404,
      server: M,
    },
    {
      name: 'a body that is not a callback',
      operationId: 'receiveMpesaCallback',
      request: { params: { secret: SECRET }, body: { Body: {} } },
      expect: 400,
      server: M,
      check: code('invalid_callback'),
    },
  ];
}
