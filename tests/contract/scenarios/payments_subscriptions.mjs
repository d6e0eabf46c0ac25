// Plans and subscriptions: /api/v1/plans, /api/v1/admin/plans*, /api/v1/subscriptions*,
// /api/v1/admin/subscriptions/{id}/sync.
//
// Runs on the `payments` server and the fake Stripe that payments.mjs started (this file
// sorts after it). Plans are made by the admin; each subscriber is a user of its own with a
// saved card, and every subscription a call needs is prepared for that call alone.
import { randomBytes, randomUUID } from 'node:crypto';

import { signUp } from '../lib/auth.mjs';
import { fakeStripeBase } from './payments.mjs';

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);
const param = (expected) => (res) => (res.json?.error?.errors?.some((e) => e.param === expected) ? [] : `no error for ${expected}`);

function must(res, status, what) {
  if (res.error || res.status !== status) {
    throw new Error(`setup: ${what}: expected ${status}, got ${res.error ?? `${res.status} ${res.text.slice(0, 300)}`}`);
  }
  return res.json;
}

export default async function subscriptions(h) {
  const P = 'payments';
  if (!fakeStripeBase()) throw new Error('setup: the fake Stripe of payments.mjs is not running');
  const tag = randomBytes(5).toString('hex');
  const key = () => ({ 'Idempotency-Key': randomUUID() });
  const newPlan = async (body, what) => must(await h.call('createPlan', { headers: key(), body, auth: 'admin' }, P), 201, what);
  const monthly = await newPlan({ name: `Contract monthly ${tag}`, amount: 1500, currency: 'USD', interval: 'month' }, 'a plan');
  const yearly = await newPlan({ name: `Contract yearly ${tag}`, amount: 15000, currency: 'USD', interval: 'year', trial_days: 7 }, 'a second plan');
  const toArchive = await newPlan({ name: `Contract archive ${tag}`, amount: 900, currency: 'USD', interval: 'week' }, 'a plan to archive');
  let n = 0;
  const subscriber = async (card = true) => {
    n += 1;
    const account = await signUp(h, { email: `contract-sub-${tag}-${n}@example.test`, password: `Contract passphrase ${tag}` });
    const who = { token: account.access };
    if (card) {
      must(await h.call('createPaymentMethod', { body: { provider_payment_method_id: 'pm_card_visa' }, auth: who }, P), 201, 'a card');
    }
    return who;
  };
  const subscribed = async (plan = monthly) => {
    const who = await subscriber();
    const sub = must(await h.call('createSubscription', { headers: key(), body: { plan_id: plan.id }, auth: who }, P), 201, 'a subscription');
    return { who, sub };
  };
  const fresh = await subscriber();
  const noCard = await subscriber(false);
  const reader = await subscribed();
  const toCancel = await subscribed();
  const toResume = await subscribed();
  must(await h.call('cancelSubscription', { params: { id: toResume.sub.id }, body: { at_period_end: true }, auth: toResume.who }, P), 200, 'a cancellation to resume');
  const toChange = await subscribed();
  return [
    { name: 'the plans on offer', operationId: 'listPlans', request: { auth: fresh }, expect: 200, server: P },
    { name: 'a bad limit: 400', operationId: 'listPlans', request: { query: { limit: 0 }, auth: fresh }, expect: 400, server: P },
    {
      name: 'a plan made at Stripe',
      operationId: 'createPlan',
      request: { headers: key(), body: { name: `Contract new ${tag}`, amount: 2500, currency: 'EUR', interval: 'month', interval_count: 3, trial_days: 14 }, auth: 'admin' },
      expect: 201,
      server: P,
      check: (res) => (res.json?.provider_price_id?.startsWith('price_') ? [] : 'no Stripe price'),
    },
    {
      name: 'bad fields are all listed: 400',
      operationId: 'createPlan',
      request: { headers: key(), body: { name: '', amount: 0, currency: 'XYZ', interval: 'fortnight' }, auth: 'admin' },
      expect: 400,
      server: P,
      check: param('interval'),
    },
    { name: 'a user may not create plans: 403', operationId: 'createPlan', request: { headers: key(), body: { name: 'x', amount: 1, currency: 'USD', interval: 'day' }, auth: fresh }, expect: 403, server: P },
    { name: 'every plan', operationId: 'listAllPlans', request: { query: { limit: 5 }, auth: 'admin' }, expect: 200, server: P },
    { name: 'a user may not list every plan: 403', operationId: 'listAllPlans', request: { auth: fresh }, expect: 403, server: P },
    {
      name: 'a plan archived',
      operationId: 'updatePlan',
      request: { params: { id: toArchive.id }, body: { active: false, name: `Contract archived ${tag}` }, auth: 'admin' },
      expect: 200,
      server: P,
      check: (res) => (res.json?.active === false ? [] : 'still active'),
    },
    { name: 'an unknown plan: 404', operationId: 'updatePlan', request: { params: { id: randomUUID() }, body: { name: 'x' }, auth: 'admin' }, expect: 404, server: P },
    { name: 'nothing to change: 400', operationId: 'updatePlan', request: { params: { id: monthly.id }, body: { active: 'no' }, auth: 'admin' }, expect: 400, server: P, check: param('active') },
    {
      name: 'subscribed with the saved card',
      operationId: 'createSubscription',
      request: { headers: key(), body: { plan_id: monthly.id }, auth: fresh },
      expect: 201,
      server: P,
      check: (res) => (res.json?.status === 'active' ? [] : `status ${res.json?.status}`),
    },
    { name: 'a second subscription: 409', operationId: 'createSubscription', request: { headers: key(), body: { plan_id: yearly.id }, auth: reader.who }, expect: 409, server: P, check: code('already_subscribed') },
    { name: 'no card and no trial: 422', operationId: 'createSubscription', request: { headers: key(), body: { plan_id: monthly.id }, auth: noCard }, expect: 422, server: P, check: code('payment_method_required') },
    { name: 'a malformed plan id: 400', operationId: 'createSubscription', request: { headers: key(), body: { plan_id: 'gold' }, auth: noCard }, expect: 400, server: P, check: param('plan_id') },
    { name: 'the caller\'s subscriptions', operationId: 'listSubscriptions', request: { auth: reader.who }, expect: 200, server: P },
    { name: 'a bad cursor: 400', operationId: 'listSubscriptions', request: { query: { starting_after: 'x' }, auth: reader.who }, expect: 400, server: P },
    { name: 'one subscription', operationId: 'getSubscription', request: { params: { id: reader.sub.id }, auth: reader.who }, expect: 200, server: P },
    { name: 'another user\'s subscription: 404', operationId: 'getSubscription', request: { params: { id: reader.sub.id }, auth: fresh }, expect: 404, server: P },
    {
      name: 'canceled at once',
      operationId: 'cancelSubscription',
      request: { params: { id: toCancel.sub.id }, body: { at_period_end: false }, auth: toCancel.who },
      expect: 200,
      server: P,
      check: (res) => (res.json?.status === 'canceled' ? [] : `status ${res.json?.status}`),
    },
    { name: 'canceled already: 409', operationId: 'cancelSubscription', request: { params: { id: toCancel.sub.id }, body: {}, auth: toCancel.who }, expect: 409, server: P, check: code('subscription_canceled') },
    {
      name: 'resumed',
      operationId: 'resumeSubscription',
      request: { params: { id: toResume.sub.id }, body: {}, auth: toResume.who },
      expect: 200,
      server: P,
      check: (res) => (res.json?.cancel_at_period_end === false ? [] : 'still canceling'),
    },
    { name: 'nothing to resume: 409', operationId: 'resumeSubscription', request: { params: { id: reader.sub.id }, body: {}, auth: reader.who }, expect: 409, server: P, check: code('not_canceling') },
    {
      name: 'a plan change',
      operationId: 'changeSubscriptionPlan',
      request: { params: { id: toChange.sub.id }, body: { plan_id: yearly.id }, auth: toChange.who },
      expect: 200,
      server: P,
      check: (res) => (res.json?.plan_id === yearly.id ? [] : 'not the new plan'),
    },
    {
      name: 'a subscription synced from Stripe',
      operationId: 'syncSubscription',
      request: { params: { id: reader.sub.id }, auth: 'admin' },
      expect: 200,
      server: P,
      check: (res) => (res.json?.id === reader.sub.id && res.json?.status === 'active' ? [] : 'not the active subscription'),
    },
    { name: 'an unknown subscription: 404', operationId: 'syncSubscription', request: { params: { id: randomUUID() }, auth: 'admin' }, expect: 404, server: P, check: code('not_found') },
    { name: 'a user may not sync: 403', operationId: 'syncSubscription', request: { params: { id: reader.sub.id }, auth: reader.who }, expect: 403, server: P },
    { name: 'to an archived plan: 422', operationId: 'changeSubscriptionPlan', request: { params: { id: reader.sub.id }, body: { plan_id: toArchive.id }, auth: reader.who }, expect: 422, server: P, check: code('plan_archived') },
  ];
}
