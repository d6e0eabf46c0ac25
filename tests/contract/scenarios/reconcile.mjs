// Reconciliation: /api/v1/admin/reconciliations* and /api/v1/admin/payments/{id}/sync.
//
// Runs on `main` (no Stripe key is needed: the API only queues; herald-reconcile does the
// work). The payment a sync needs is inserted with psql, for a user of its own.
import { randomBytes, randomUUID } from 'node:crypto';

import { signUp } from '../lib/auth.mjs';
import { psqlValue } from '../lib/psql.mjs';

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);
const param = (expected) => (res) => (res.json?.error?.errors?.some((e) => e.param === expected) ? [] : `no error for ${expected}`);

function must(res, status, what) {
  if (res.error || res.status !== status) {
    throw new Error(`setup: ${what}: expected ${status}, got ${res.error ?? `${res.status} ${res.text.slice(0, 300)}`}`);
  }
  return res.json;
}

export default async function reconcile(h) {
  const tag = randomBytes(5).toString('hex');
  const user = await signUp(h, { email: `contract-recon-${tag}@example.test`, password: `Contract passphrase ${tag}` });
  const paymentId = psqlValue(
    "INSERT INTO payments (user_id, payment_type, amount, currency, status) VALUES (:'uid', 'other', 1200, 'EUR', 'processing') RETURNING id",
    { uid: user.id });
  const run = must(await h.call('createReconciliation', { body: { since: '2026-01-01' }, auth: 'admin' }), 202,
    'a run to read');
  return [
    {
      name: 'a run over one day',
      operationId: 'createReconciliation',
      request: { body: { since: '2026-01-02', until: '2026-01-03T00:00:00Z' }, auth: 'admin' },
      expect: 202,
      check: (res) => (res.json?.status === 'queued' && res.json?.since === '2026-01-02T00:00:00Z' ? [] : 'not a queued run of the period'),
    },
    {
      name: 'until before since: 400',
      operationId: 'createReconciliation',
      request: { body: { since: '2026-01-05', until: '2026-01-01' }, auth: 'admin' },
      expect: 400,
      check: param('until'),
    },
    {
      name: 'more than 31 days: 400',
      operationId: 'createReconciliation',
      request: { body: { since: '2026-01-01', until: '2026-03-01' }, auth: 'admin' },
      expect: 400,
      check: param('until'),
    },
    {
      name: 'a malformed timestamp: 400',
      operationId: 'createReconciliation',
      request: { body: { since: '2026-02-31' }, auth: 'admin' },
      expect: 400,
      check: param('since'),
    },
    {
      name: 'a user may not: 403',
      operationId: 'createReconciliation',
      request: { body: {}, auth: { token: user.access } },
      expect: 403,
    },
    {
      name: 'the runs, newest first',
      operationId: 'listReconciliations',
      request: { query: { limit: 2 }, auth: 'admin' },
      expect: 200,
    },
    {
      name: 'a bad limit: 400',
      operationId: 'listReconciliations',
      request: { query: { limit: 0 }, auth: 'admin' },
      expect: 400,
    },
    {
      name: 'a run with its items',
      operationId: 'getReconciliation',
      request: { params: { id: run.id }, query: { kind: 'amount_mismatch' }, auth: 'admin' },
      expect: 200,
      check: (res) => (res.json?.id === run.id && Array.isArray(res.json?.items) ? [] : 'not the run with items'),
    },
    {
      name: 'an unknown kind: 400',
      operationId: 'getReconciliation',
      request: { params: { id: run.id }, query: { kind: 'everything' }, auth: 'admin' },
      expect: 400,
      check: param('kind'),
    },
    {
      name: 'an unknown run: 404',
      operationId: 'getReconciliation',
      request: { params: { id: randomUUID() }, auth: 'admin' },
      expect: 404,
    },
    {
      name: 'a payment sync queued',
      operationId: 'syncPayment',
      request: { params: { id: paymentId }, auth: 'admin' },
      expect: 202,
      check: (res) => (res.json?.subject_id === paymentId && res.json?.kind === 'payment_sync' ? [] : 'not the job'),
    },
    {
      name: 'an unknown payment: 404',
      operationId: 'syncPayment',
      request: { params: { id: randomUUID() }, auth: 'admin' },
      expect: 404,
      check: code('not_found'),
    },
  ];
}
