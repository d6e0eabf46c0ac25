// Webhook endpoints: the caller's and the admin's system-wide ones. The `webhooks` server
// accepts http:// and 127.0.0.1 (HERALD_WEBHOOK_ALLOW_HTTP, HERALD_WEBHOOK_ALLOW_NETS), so
// endpoints can be registered without DNS; nothing is ever sent to them here (no worker
// runs). The main server refuses them: the SSRF answers. System-wide endpoints get a
// category of their own, so they never add deliveries to other suites' notifications.
import { randomBytes } from 'node:crypto';

import { signUp } from '../lib/auth.mjs';

export const servers = {
  webhooks: () => ({
    HERALD_WEBHOOK_ALLOW_HTTP: 'true',
    HERALD_WEBHOOK_ALLOW_NETS: '127.0.0.1/32',
    HERALD_AUTH_RATE_LIMIT: '1000000',
  }),
  // two endpoints per user at most
  hooklimit: () => ({
    HERALD_WEBHOOK_ALLOW_HTTP: 'true',
    HERALD_WEBHOOK_ALLOW_NETS: '127.0.0.1/32',
    HERALD_WEBHOOK_MAX_ENDPOINTS: '2',
    HERALD_AUTH_RATE_LIMIT: '1000000',
  }),
};

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);
const hasSecret = (res) => (/^whsec_/.test(res.json?.secret ?? '') ? [] : 'no whsec_ secret');

function must(res, status, what) {
  if (res.error || res.status !== status) {
    throw new Error(`setup: ${what}: expected ${status}, got ${res.error ?? `${res.status} ${res.text.slice(0, 300)}`}`);
  }
  return res.json;
}

export default async function webhooks(h) {
  const tag = randomBytes(5).toString('hex');
  const account = await signUp(h, { email: `contract-hooks-${tag}@example.test`, password: `Contract passphrase ${tag}` });
  const other = await signUp(h, { email: `contract-hooks-${tag}-2@example.test`, password: `Contract passphrase ${tag}` });
  const user = { token: account.access };
  const otherUser = { token: other.access };
  const url = 'http://127.0.0.1:9/hook';
  const mine = must(await h.call('createMyWebhookEndpoint', { body: { url, format: 'slack' }, auth: user }, 'webhooks'), 201, 'an endpoint');
  const sys = must(await h.call('createAdminWebhookEndpoint', { body: { url, categories: [`contract-hooks-${tag}`] }, auth: 'admin' }, 'webhooks'), 201, 'a system endpoint');
  const doomed = must(await h.call('createAdminWebhookEndpoint', { body: { url, categories: [`contract-hooks-${tag}`] }, auth: 'admin' }, 'webhooks'), 201, 'a system endpoint to delete');
  const s = 'webhooks';
  return [
    { name: 'an endpoint in Discord format', operationId: 'createMyWebhookEndpoint', server: s,
      request: { body: { url, format: 'discord', description: 'chat', categories: ['billing'] }, auth: user }, expect: 201, check: hasSecret },
    { name: 'past the limit: 422', operationId: 'createMyWebhookEndpoint', server: 'hooklimit',
      request: { body: { url }, auth: user }, expect: 422, check: code('too_many_endpoints') },
    { name: 'http without HERALD_WEBHOOK_ALLOW_HTTP: 400', operationId: 'createMyWebhookEndpoint',
      request: { body: { url }, auth: user }, expect: 400, check: code('https_required') },
    { name: 'loopback without an allow-list: 400', operationId: 'createMyWebhookEndpoint',
      request: { body: { url: 'https://127.0.0.1/hook' }, auth: user }, expect: 400, check: code('address_not_allowed') },
    { name: 'the metadata address: 400', operationId: 'createMyWebhookEndpoint', server: s,
      request: { body: { url: 'http://169.254.169.254/latest/meta-data/' }, auth: user }, expect: 400, check: code('address_not_allowed') },
    { name: 'an unknown format: 400', operationId: 'createMyWebhookEndpoint', server: s,
      request: { body: { url, format: 'teams' }, auth: user }, expect: 400, check: code('invalid_format') },
    { name: 'my endpoints', operationId: 'listMyWebhookEndpoints', request: { auth: user }, expect: 200,
      check: (res) => (res.json?.data?.length === 2 && !res.json.data.some((e) => 'secret' in e) ? [] : 'two endpoints, no secret') },
    { name: 'a bad limit: 400', operationId: 'listMyWebhookEndpoints', request: { query: { limit: 0 }, auth: user }, expect: 400 },
    { name: 'rotated', operationId: 'rotateMyWebhookEndpointSecret', request: { params: { id: mine.id }, auth: user }, expect: 200,
      check: (res) => [...hasSecret(res), ...(res.json?.secret !== mine.secret && res.json?.previous_secret_expires_at ? [] : ['same secret or no grace'])] },
    { name: "another user's endpoint: 404", operationId: 'rotateMyWebhookEndpointSecret', request: { params: { id: mine.id }, auth: otherUser }, expect: 404 },
    { name: 'enabled', operationId: 'enableMyWebhookEndpoint', server: s, request: { params: { id: mine.id }, auth: user }, expect: 200 },
    { name: 'enable, the URL now refused: 400', operationId: 'enableMyWebhookEndpoint', request: { params: { id: mine.id }, auth: user }, expect: 400,
      check: code('https_required') },
    { name: "enable another user's: 404", operationId: 'enableMyWebhookEndpoint', request: { params: { id: mine.id }, auth: otherUser }, expect: 404 },
    { name: "delete another user's: 404", operationId: 'deleteMyWebhookEndpoint', request: { params: { id: mine.id }, auth: otherUser }, expect: 404 },
    { name: 'deleted', operationId: 'deleteMyWebhookEndpoint', request: { params: { id: mine.id }, auth: user }, expect: 204 },
    // --- system-wide ---
    { name: 'a system endpoint for one category', operationId: 'createAdminWebhookEndpoint', server: s,
      request: { body: { url, format: null, categories: [`contract-hooks-${tag}`] }, auth: 'admin' }, expect: 201,
      check: (res) => [...hasSecret(res), ...(res.json?.system === true && res.json?.format === 'json' ? [] : ['not system json'])] },
    { name: 'a user: 403', operationId: 'createAdminWebhookEndpoint', request: { body: { url }, auth: user }, expect: 403 },
    { name: 'system endpoints', operationId: 'listAdminWebhookEndpoints', request: { auth: 'admin' }, expect: 200 },
    { name: 'a user lists system endpoints: 403', operationId: 'listAdminWebhookEndpoints', request: { auth: user }, expect: 403 },
    { name: 'system secret rotated', operationId: 'rotateAdminWebhookEndpointSecret', request: { params: { id: sys.id }, auth: 'admin' }, expect: 200, check: hasSecret },
    { name: "a user's endpoint is not a system one: 404", operationId: 'rotateAdminWebhookEndpointSecret', request: { params: { id: mine.id }, auth: 'admin' }, expect: 404 },
    { name: 'system endpoint enabled', operationId: 'enableAdminWebhookEndpoint', server: s, request: { params: { id: sys.id }, auth: 'admin' }, expect: 200 },
    { name: 'enable an unknown one: 404', operationId: 'enableAdminWebhookEndpoint', request: { params: { id: '0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f' }, auth: 'admin' }, expect: 404 },
    { name: 'system endpoint deleted', operationId: 'deleteAdminWebhookEndpoint', request: { params: { id: doomed.id }, auth: 'admin' }, expect: 204 },
    { name: 'deleted twice: 404', operationId: 'deleteAdminWebhookEndpoint', request: { params: { id: doomed.id }, auth: 'admin' }, expect: 404 },
  ];
}
