// Disputes: /api/v1/admin/disputes and /api/v1/admin/disputes/{id}/evidence.
//
// Runs on the `payments` server and the fake Stripe that payments.mjs started (this file
// sorts after it): a charged payment is disputed at the fake, the signed
// charge.dispute.created event is delivered, and the dispute Herald recorded is listed and
// given evidence; a second one is closed at the fake first, so Stripe refuses its evidence.
import { randomBytes, randomUUID } from 'node:crypto';

import { signUp } from '../lib/auth.mjs';
import { fakeStripeBase, signature } from './payments.mjs';

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);
const param = (expected) => (res) => (res.json?.error?.errors?.some((e) => e.param === expected) ? [] : `no error for ${expected}`);

function must(res, status, what) {
  if (res.error || res.status !== status) {
    throw new Error(`setup: ${what}: expected ${status}, got ${res.error ?? `${res.status} ${res.text.slice(0, 300)}`}`);
  }
  return res.json;
}

async function fake(method, path, body) {
  const res = await fetch(`${fakeStripeBase()}${path}`, { method, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`setup: fake ${method} ${path}: ${res.status}`);
  return res.json();
}

/** A charged payment disputed at the fake and its created event delivered: the dispute. */
async function disputed(h, payer, P) {
  const pay = must(await h.call('createPayment', {
    headers: { 'Idempotency-Key': randomUUID() },
    body: { amount: 3100, currency: 'USD', payment_type: 'venue_booking', payment_method_id: 'pm_card_visa', confirm: true },
    auth: payer,
  }, P), 201, 'a payment to dispute');
  const du = await fake('POST', `/_fake/payment_intents/${pay.provider_payment_intent_id}/dispute`, { reason: 'fraudulent' });
  const events = await fake('GET', `/_fake/events?object=${du.id}&type=charge.dispute.created`);
  const text = JSON.stringify(events.data[0]);
  must(await h.call('receiveStripeWebhook', { headers: { 'Stripe-Signature': signature(text) }, rawBody: text, contentType: 'application/json' }, P),
    200, 'the dispute event');
  const list = must(await h.call('listDisputes', { query: { limit: 1 }, auth: 'admin' }, P), 200, 'the new dispute');
  return { id: list.data[0].id, du: du.id };
}

export default async function disputes(h) {
  const P = 'payments';
  if (!fakeStripeBase()) throw new Error('setup: the fake Stripe of payments.mjs is not running');
  const tag = randomBytes(5).toString('hex');
  const account = await signUp(h, { email: `contract-dispute-${tag}@example.test`, password: `Contract passphrase ${tag}` });
  const payer = { token: account.access };
  const open = await disputed(h, payer, P);
  const closed = await disputed(h, payer, P);
  await fake('POST', `/_fake/disputes/${closed.du}/lost`, {});
  return [
    {
      name: 'the disputes, newest first',
      operationId: 'listDisputes',
      request: { query: { limit: 2 }, auth: 'admin' },
      expect: 200,
      server: P,
      check: (res) => (res.json?.data?.[0]?.id === closed.id ? [] : 'not the newest dispute first'),
    },
    {
      name: 'only disputes that need a response',
      operationId: 'listDisputes',
      request: { query: { status: 'needs_response' }, auth: 'admin' },
      expect: 200,
      server: P,
      check: (res) => (res.json?.data?.every((d) => d.status === 'needs_response') ? [] : 'another status listed'),
    },
    {
      name: 'an unknown status: 400',
      operationId: 'listDisputes',
      request: { query: { status: 'open' }, auth: 'admin' },
      expect: 400,
      server: P,
      check: param('status'),
    },
    {
      name: 'a user may not list disputes: 403',
      operationId: 'listDisputes',
      request: { auth: payer },
      expect: 403,
      server: P,
    },
    {
      name: 'evidence submitted for review',
      operationId: 'submitDisputeEvidence',
      request: { params: { id: open.id }, body: { text: 'Delivered and signed for on 3 May.' }, auth: 'admin' },
      expect: 200,
      server: P,
      check: (res) => (res.json?.status === 'under_review' && res.json?.has_evidence === true ? [] : 'not under review'),
    },
    {
      name: 'a second submission: 409',
      operationId: 'submitDisputeEvidence',
      request: { params: { id: open.id }, body: { text: 'More.' }, auth: 'admin' },
      expect: 409,
      server: P,
      check: code('dispute_not_open'),
    },
    {
      name: 'closed at Stripe meanwhile: 422',
      operationId: 'submitDisputeEvidence',
      request: { params: { id: closed.id }, body: { text: 'Too late.' }, auth: 'admin' },
      expect: 422,
      server: P,
      check: code('dispute_not_accepting_evidence'),
    },
    {
      name: 'empty evidence: 400',
      operationId: 'submitDisputeEvidence',
      request: { params: { id: closed.id }, body: { text: '' }, auth: 'admin' },
      expect: 400,
      server: P,
      check: param('text'),
    },
    {
      name: 'an unknown dispute: 404',
      operationId: 'submitDisputeEvidence',
      request: { params: { id: randomUUID() }, body: { text: 'x' }, auth: 'admin' },
      expect: 404,
      server: P,
      check: code('not_found'),
    },
    {
      name: 'a server without Stripe: 404 before anything',
      operationId: 'submitDisputeEvidence',
      request: { params: { id: randomUUID() }, body: { text: 'x' }, auth: 'admin' },
      expect: 404,
    },
  ];
}
