// M-Pesa: createPayment with provider mpesa, getPaymentConfig, receiveMpesaCallback, and
// getPaymentReceipt of the payment the callback settled, getPaymentSummary.
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
  const res = await h.call('createPayment', { headers: key(), body: push, auth: payer }, 'mpesa');
  if (res.status !== 201) throw new Error(`setup: an M-Pesa payment: ${res.status} ${res.text.slice(0, 300)}`);
  const callback = JSON.stringify({
    Body: {
      stkCallback: {
        MerchantRequestID: '29115-34620561-1', CheckoutRequestID: res.json.provider_payment_intent_id, ResultCode: 0,
        ResultDesc: 'The service request is processed successfully.',
        CallbackMetadata: { Item: [{ Name: 'Amount', Value: 150 }, { Name: 'MpesaReceiptNumber', Value: 'NLJ7RT61SV' }] },
      },
    },
  });
  // The payer has answered (the fake answers at once): this callback makes the payment succeed.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const settled = await h.call('receiveMpesaCallback', { params: { secret: SECRET }, rawBody: callback,
    contentType: 'application/json' }, 'mpesa');
  if (settled.json?.outcome !== 'applied') throw new Error(`setup: the callback: ${settled.status} ${settled.text}`);
  const paid = res.json.id;
  const M = 'mpesa';
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
