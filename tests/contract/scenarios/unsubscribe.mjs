// One-click unsubscribe: GET and POST /api/v1/unsubscribe with links signed like
// herald-email signs them (hex HMAC-SHA256 of user "\n" category under a key derived from
// HERALD_UNSUBSCRIBE_SECRET). The worker test (tests/workers/test_worker_email.c) follows a
// link from a real e-mail to the preference it changes.
import { createHmac, randomBytes } from 'node:crypto';

import { signUp } from '../lib/auth.mjs';

const SECRET = 'unsubscribe-contract-secret-0123456789abcdef';
export const servers = {
  unsub: () => ({ HERALD_UNSUBSCRIBE_SECRET: SECRET }),
  // neither secret: tokens signed with a per-process key, and no unsubscribe links at all
  nokey: () => ({ HERALD_UNSUBSCRIBE_SECRET: '', HERALD_JWT_SECRET: '' }),
};

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);

function sign(user, category, secret = SECRET) {
  const key = createHmac('sha256', secret).update('herald one-click unsubscribe v1').digest();
  return createHmac('sha256', key).update(`${user}\n${category}`).digest('hex');
}

export default async function unsubscribe(h) {
  const tag = randomBytes(5).toString('hex');
  const user = (await signUp(h, { email: `contract-unsub-${tag}@example.test`, password: `Contract passphrase ${tag}` })).id;
  const S = 'unsub';
  const FORM = 'application/x-www-form-urlencoded';
  const link = (over = {}) => ({ user, category: 'marketing', sig: sign(user, 'marketing'), ...over });
  const ghost = '6f0c2a9e-3b1d-4c7e-9a2f-1e5d8b7c6a40';
  return [
    {
      name: 'the page of a signed link, changing nothing',
      operationId: 'getUnsubscribePage',
      request: { query: link() },
      expect: 200,
      server: S,
      check: (res) => (res.text.includes('method="post"') ? [] : 'no form that POSTs'),
    },
    {
      name: 'the page of an altered link',
      operationId: 'getUnsubscribePage',
      request: { query: link({ category: 'news' }) },
      expect: 400,
      server: S,
      check: code('invalid_signature'),
    },
    {
      name: 'one click, as a mail client sends it',
      operationId: 'unsubscribeOneClick',
      request: { query: link(), rawBody: 'List-Unsubscribe=One-Click', contentType: FORM },
      expect: 200,
      server: S,
      check: (res) => (res.json?.category === 'marketing' && res.json?.subscribed === false ? [] : `body ${res.text}`),
    },
    {
      name: 'a second click is harmless',
      operationId: 'unsubscribeOneClick',
      request: { query: link(), rawBody: 'List-Unsubscribe=One-Click', contentType: FORM },
      expect: 200,
      server: S,
    },
    {
      name: 'a link signed with another key',
      operationId: 'unsubscribeOneClick',
      request: { query: link({ sig: sign(user, 'marketing', 'another-secret-of-at-least-32-bytes!!') }), rawBody: 'List-Unsubscribe=One-Click', contentType: FORM },
      expect: 400,
      server: S,
      check: code('invalid_signature'),
    },
    {
      name: 'malformed parameters, every one listed',
      operationId: 'unsubscribeOneClick',
      request: { query: { user: 'nobody', category: 'bad category', sig: 'xyz' }, rawBody: '', contentType: FORM },
      expect: 400,
      server: S,
      check: (res) => (res.json?.error?.errors?.length === 3 ? [] : `errors ${JSON.stringify(res.json?.error?.errors)}`),
    },
    {
      name: 'no parameters',
      operationId: 'unsubscribeOneClick',
      request: { query: {}, rawBody: '', contentType: FORM },
      expect: 400,
      server: S,
      check: code('missing_field'),
    },
    {
      name: 'a server without a key has no links to honour',
      operationId: 'unsubscribeOneClick',
      request: { query: link(), rawBody: 'List-Unsubscribe=One-Click', contentType: FORM },
      expect: 503,
      server: 'nokey',
    },
    {
      name: 'nor a page to show',
      operationId: 'getUnsubscribePage',
      request: { query: link() },
      expect: 503,
      server: 'nokey',
    },
    {
      name: 'a signed link of an account that does not exist',
      operationId: 'unsubscribeOneClick',
      request: { query: link({ user: ghost, sig: sign(ghost, 'marketing') }), rawBody: 'List-Unsubscribe=One-Click', contentType: FORM },
      expect: 404,
      server: S,
    },
  ];
}
