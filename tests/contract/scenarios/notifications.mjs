// Notifications: sending (one, bulk, announcements), the feed, preferences, devices,
// templates, queues and deliveries.
//
// The setup (run when the file loads) registers its own users and sends what the calls read
// back: a notification in the feed, a bulk send and an announcement to follow, a device to
// remove, a delivery made dead (in PostgreSQL, lib/psql.mjs) to retry. The calls run in order;
// the deleting ones come last.
import { randomBytes, randomUUID } from 'node:crypto';

import { signUp } from '../lib/auth.mjs';
import { psqlValue } from '../lib/psql.mjs';

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);

function must(res, status, what) {
  if (res.error || res.status !== status) {
    throw new Error(`setup: ${what}: expected ${status}, got ${res.error ?? `${res.status} ${res.text.slice(0, 300)}`}`);
  }
  return res.json;
}

export default async function notifications(h) {
  const tag = randomBytes(5).toString('hex');
  const password = `Contract passphrase ${tag}`;
  const register = async (who, extra = {}) => {
    const body = { email: `contract-notif-${tag}-${who}@example.test`, password, ...extra };
    const account = await signUp(h, body);
    return { id: account.id, token: account.access };
  };
  const me = await register('me', { phone: '+14155550199' });
  const other = await register('other');
  const user = { token: me.token };
  const otherUser = { token: other.token };
  const admin = 'admin';
  const key = must(await h.call('createApiKey', { body: { name: `contract notif ${tag}` }, auth: admin }), 201, 'API key');
  const apiKey = { token: key.secret };

  const sent = must(await h.call('sendNotification', {
    body: { user_id: me.id, category: 'contract', title: 'Hello', body: 'From the contract suite', channels: ['in_app', 'sms'] },
    auth: admin,
  }), 202, 'a notification to read back');
  const sms = sent.deliveries.find((d) => d.channel === 'sms').id;
  psqlValue("UPDATE deliveries SET status = 'dead' WHERE id = :'id'::uuid RETURNING id;", { id: sms });
  const batch = must(await h.call('sendBulkNotification', {
    body: { user_ids: [me.id, other.id], category: 'contract', body: 'Bulk', channels: ['in_app'] },
    auth: apiKey,
  }), 202, 'a bulk send');
  const later = new Date(Date.now() + 3600 * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  const announcement = must(await h.call('createAnnouncement', {
    body: { target: 'admins', body: 'Later', channels: ['in_app'], send_at: later },
    auth: admin,
  }), 202, 'an announcement');
  const device = must(await h.call('registerDevice', {
    body: { token: `contract-device-${tag}-2`, platform: 'web' },
    auth: user,
  }), 201, 'a device to remove');
  const template = `contract-${tag}`;
  const ticket = must(await h.call('createStreamTicket', { auth: user }), 201, 'a stream ticket').ticket;

  return [
    // --- sending ----------------------------------------------------------------------------
    {
      name: 'every channel by preference, as an API key',
      operationId: 'sendNotification',
      request: { body: { user_id: me.id, category: 'contract', priority: 'high', title: 'Hi', body: 'Text', data: { n: 1 } }, auth: apiKey },
      expect: 202,
      check: (res) => (res.json?.deliveries?.length === 4 ? [] : `${res.json?.deliveries?.length} deliveries`),
    },
    {
      name: 'with an Idempotency-Key, scheduled',
      operationId: 'sendNotification',
      request: {
        headers: { 'Idempotency-Key': `contract-${tag}` },
        body: { user_id: me.id, category: 'contract', body: 'Later', channels: ['email'], send_at: later },
        auth: admin,
      },
      expect: 202,
      check: (res) => (res.json?.status === 'scheduled' ? [] : `status ${res.json?.status}`),
    },
    {
      name: 'the same key with another body: 400 idempotency_error',
      operationId: 'sendNotification',
      request: {
        headers: { 'Idempotency-Key': `contract-${tag}` },
        body: { user_id: me.id, category: 'contract', body: 'Other', channels: ['email'] },
        auth: admin,
      },
      expect: 400,
      check: (res) => (res.json?.error?.type === 'idempotency_error' ? [] : `type ${res.json?.error?.type}`),
    },
    {
      name: 'every field error at once',
      operationId: 'sendNotification',
      request: { body: { user_id: 'x', category: 'a b', priority: 'p', channels: ['fax'], send_at: 'soon' }, auth: admin },
      expect: 400,
      check: (res) => ((res.json?.error?.errors ?? []).length === 6 ? [] : `${JSON.stringify(res.json?.error?.errors)}`),
    },
    {
      name: 'with push options',
      operationId: 'sendNotification',
      request: {
        body: {
          user_id: me.id, category: 'contract', title: 'Order', body: 'Shipped', data: { order: 'A-1', n: 2 },
          push: { priority: 'high', ttl: 600, collapse_key: 'orders', badge: true, android: { notification: { channel_id: 'shop' } }, apns: { headers: { 'apns-topic': 'com.example' } } },
        },
        auth: admin,
      },
      expect: 202,
    },
    {
      name: 'bad push options and FCM-reserved data: 400',
      operationId: 'sendNotification',
      request: { body: { user_id: me.id, category: 'contract', body: 'x', data: { from: 'x' }, push: { ttl: -1, android: { priority: 'urgent' } } }, auth: admin },
      expect: 400,
      check: (res) => ((res.json?.error?.errors ?? []).length === 3 ? [] : `${JSON.stringify(res.json?.error?.errors)}`),
    },
    {
      name: 'an unknown user: 422 user_not_found',
      operationId: 'sendNotification',
      request: { body: { user_id: randomUUID(), category: 'contract', body: 'x' }, auth: admin },
      expect: 422,
      check: code('user_not_found'),
    },
    {
      name: 'a user cannot send: 403',
      operationId: 'sendNotification',
      request: { body: { user_id: me.id, category: 'contract', body: 'x' }, auth: user },
      expect: 403,
    },
    {
      name: 'bulk, duplicates ignored',
      operationId: 'sendBulkNotification',
      request: { body: { user_ids: [me.id, me.id], category: 'contract', body: 'Bulk' }, auth: admin },
      expect: 202,
      check: (res) => (res.json?.requested === 1 && res.json?.object === 'notification_batch' ? [] : `requested ${res.json?.requested}`),
    },
    {
      name: 'bulk without user ids: 400',
      operationId: 'sendBulkNotification',
      request: { body: { category: 'contract', body: 'Bulk' }, auth: admin },
      expect: 400,
      check: code('missing_field'),
    },
    {
      name: 'a bulk send, followed',
      operationId: 'getNotificationBatch',
      request: { params: { id: batch.id }, auth: admin },
      expect: 200,
      check: (res) => (res.json?.recipients === 2 ? [] : `recipients ${res.json?.recipients}`),
    },
    {
      name: 'an unknown bulk send: 404',
      operationId: 'getNotificationBatch',
      request: { params: { id: randomUUID() }, auth: admin },
      expect: 404,
    },
    {
      name: 'an announcement to every user',
      operationId: 'createAnnouncement',
      request: { body: { target: 'users', title: 'News', body: 'Contract', channels: ['in_app'], send_at: later }, auth: admin },
      expect: 202,
      check: (res) => (res.json?.status === 'scheduled' ? [] : `status ${res.json?.status}`),
    },
    {
      name: 'an unknown target: 400',
      operationId: 'createAnnouncement',
      request: { body: { target: 'martians', body: 'x' }, auth: admin },
      expect: 400,
      check: code('invalid_target'),
    },
    {
      name: 'announcements, newest first',
      operationId: 'listAnnouncements',
      request: { query: { limit: 5 }, auth: apiKey },
      expect: 200,
    },
    {
      name: 'users cannot list announcements: 403',
      operationId: 'listAnnouncements',
      request: { auth: user },
      expect: 403,
    },
    {
      name: 'an announcement, followed',
      operationId: 'getAnnouncement',
      request: { params: { id: announcement.id }, auth: admin },
      expect: 200,
    },
    {
      name: 'a bulk send is not an announcement: 404',
      operationId: 'getAnnouncement',
      request: { params: { id: batch.id }, auth: admin },
      expect: 404,
    },
    {
      name: 'new text',
      operationId: 'updateAnnouncement',
      request: { params: { id: announcement.id }, body: { body: 'Contract, corrected', action_url: null }, auth: admin },
      expect: 200,
      check: (res) => (res.json?.body === 'Contract, corrected' ? [] : `body ${res.json?.body}`),
    },
    {
      name: 'an empty change: 400',
      operationId: 'updateAnnouncement',
      request: { params: { id: announcement.id }, body: {}, auth: admin },
      expect: 400,
    },
    {
      name: 'a bulk send is not an announcement: 404',
      operationId: 'updateAnnouncement',
      request: { params: { id: batch.id }, body: { body: 'x' }, auth: admin },
      expect: 404,
    },
    {
      name: 'withdrawn',
      operationId: 'withdrawAnnouncement',
      request: { params: { id: announcement.id }, auth: admin },
      expect: 200,
      check: (res) => (res.json?.status === 'withdrawn' ? [] : `status ${res.json?.status}`),
    },
    {
      name: 'twice: 409',
      operationId: 'withdrawAnnouncement',
      request: { params: { id: announcement.id }, auth: admin },
      expect: 409,
      check: code('announcement_withdrawn'),
    },
    {
      name: 'withdrawn, it cannot change: 409',
      operationId: 'updateAnnouncement',
      request: { params: { id: announcement.id }, body: { body: 'x' }, auth: admin },
      expect: 409,
    },
    {
      name: 'an audience by locale and topic',
      operationId: 'createAnnouncement',
      request: { body: { target: 'all', locales: ['de', 'pt-BR'], topics: [`contract-${tag}`], body: 'Hallo', channels: ['in_app'] }, auth: admin },
      expect: 202,
    },
    // --- the verification e-mail again -------------------------------------------------------
    {
      name: 'a new link',
      operationId: 'resendVerificationEmail',
      request: { auth: otherUser },
      expect: 202,
    },
    {
      name: 'without a token: 401',
      operationId: 'resendVerificationEmail',
      request: {},
      expect: 401,
    },
    // --- topics -----------------------------------------------------------------------------
    {
      name: 'a topic',
      operationId: 'createTopic',
      request: { body: { key: `contract-${tag}`, name: 'Contract releases', description: 'News' }, auth: apiKey },
      expect: 201,
    },
    {
      name: 'the same key: 409',
      operationId: 'createTopic',
      request: { body: { key: `contract-${tag}`, name: 'Again' }, auth: admin },
      expect: 409,
      check: code('topic_exists'),
    },
    {
      name: 'a bad key: 400',
      operationId: 'createTopic',
      request: { body: { key: 'Not A Key', name: 'x' }, auth: admin },
      expect: 400,
    },
    {
      name: 'every topic',
      operationId: 'listTopics',
      request: { auth: user },
      expect: 200,
    },
    {
      name: 'without a token: 401',
      operationId: 'listTopics',
      request: {},
      expect: 401,
    },
    {
      name: 'subscribed',
      operationId: 'subscribeTopic',
      request: { params: { key: `contract-${tag}` }, auth: user },
      expect: 200,
    },
    {
      name: 'an unknown topic: 404',
      operationId: 'subscribeTopic',
      request: { params: { key: 'no-such-topic' }, auth: user },
      expect: 404,
    },
    {
      name: 'my subscriptions',
      operationId: 'listMyTopics',
      request: { auth: user },
      expect: 200,
      check: (res) => (res.json?.data?.length === 1 ? [] : `${res.json?.data?.length} subscriptions`),
    },
    {
      name: 'without a token: 401',
      operationId: 'listMyTopics',
      request: {},
      expect: 401,
    },
    {
      name: 'unsubscribed',
      operationId: 'unsubscribeTopic',
      request: { params: { key: `contract-${tag}` }, auth: user },
      expect: 204,
    },
    {
      name: 'not subscribed: 404',
      operationId: 'unsubscribeTopic',
      request: { params: { key: `contract-${tag}` }, auth: user },
      expect: 404,
    },
    // --- the feed ---------------------------------------------------------------------------
    {
      name: 'my feed, unread only',
      operationId: 'listNotifications',
      request: { query: { unread: true, category: 'contract', limit: 10 }, auth: user },
      expect: 200,
      check: (res) => (res.json?.unread_count >= 1 ? [] : `unread_count ${res.json?.unread_count}`),
    },
    {
      name: 'bad filters: 400',
      operationId: 'listNotifications',
      request: { query: { unread: 'maybe' }, auth: user },
      expect: 400,
    },
    {
      name: 'search with filters',
      operationId: 'listNotifications',
      request: { query: { q: 'text', category: 'contract', since: '2020-01-01T00:00:00Z' }, auth: user },
      expect: 200,
    },
    {
      name: 'a bad search: 400',
      operationId: 'listNotifications',
      request: { query: { q: 'x'.repeat(201), until: 'soon' }, auth: user },
      expect: 400,
    },
    {
      name: 'the live feed: retry, then the unread count',
      operationId: 'streamNotifications',
      request: { auth: user, readUntil: 'event: unread_count' },
      expect: 200,
      check: (res) => (/^retry: 3000\n/.test(res.text) && /data: \{"unread":\d+\}/.test(res.text) ? [] : `stream began ${JSON.stringify(res.text.slice(0, 120))}`),
    },
    {
      name: 'the live feed through a ticket, resuming after an id',
      operationId: 'streamNotifications',
      request: { query: { ticket, last_event_id: '0' }, readUntil: 'event: unread_count' },
      expect: 200,
      check: (res) => (/event: notification\.created\n/.test(res.text) ? [] : 'no replayed notification.created'),
    },
    {
      name: 'a used or unknown ticket: 401',
      operationId: 'streamNotifications',
      request: { query: { ticket } },
      expect: 401,
      check: code('invalid_ticket'),
    },
    {
      name: 'a Last-Event-ID that is no event id: 400',
      operationId: 'streamNotifications',
      request: { auth: user, headers: { 'Last-Event-ID': 'yesterday' } },
      expect: 400,
      check: code('invalid_last_event_id'),
    },
    {
      name: 'a stream ticket',
      operationId: 'createStreamTicket',
      request: { auth: user },
      expect: 201,
    },
    {
      name: 'API keys have no stream: 403',
      operationId: 'createStreamTicket',
      request: { auth: apiKey },
      expect: 403,
    },
    {
      name: 'the badge count',
      operationId: 'getUnreadCount',
      request: { auth: user },
      expect: 200,
    },
    {
      name: 'API keys have no feed: 403',
      operationId: 'getUnreadCount',
      request: { auth: apiKey },
      expect: 403,
    },
    {
      name: 'mine',
      operationId: 'getNotification',
      request: { params: { id: sent.id }, auth: user },
      expect: 200,
    },
    {
      name: 'the admin sees the deliveries',
      operationId: 'getNotification',
      request: { params: { id: sent.id }, auth: admin },
      expect: 200,
      check: (res) => (res.json?.deliveries?.length === 2 ? [] : `deliveries ${JSON.stringify(res.json?.deliveries)}`),
    },
    {
      name: "another user's: 404",
      operationId: 'getNotification',
      request: { params: { id: sent.id }, auth: otherUser },
      expect: 404,
    },
    {
      name: 'read',
      operationId: 'markNotificationRead',
      request: { params: { id: sent.id }, auth: user },
      expect: 200,
      check: (res) => (res.json?.read === true ? [] : `read ${res.json?.read}`),
    },
    {
      name: "another user's: 404",
      operationId: 'markNotificationRead',
      request: { params: { id: sent.id }, auth: otherUser },
      expect: 404,
    },
    {
      name: 'unread again',
      operationId: 'markNotificationUnread',
      request: { params: { id: sent.id }, auth: user },
      expect: 200,
      check: (res) => (res.json?.read === false ? [] : `read ${res.json?.read}`),
    },
    {
      name: 'an unknown one: 404',
      operationId: 'markNotificationUnread',
      request: { params: { id: randomUUID() }, auth: user },
      expect: 404,
    },
    {
      name: 'archived',
      operationId: 'archiveNotification',
      request: { params: { id: sent.id }, auth: user },
      expect: 200,
      check: (res) => (res.json?.archived === true ? [] : `archived ${res.json?.archived}`),
    },
    {
      name: "another user's: 404",
      operationId: 'archiveNotification',
      request: { params: { id: sent.id }, auth: otherUser },
      expect: 404,
    },
    {
      name: 'back from the archive',
      operationId: 'unarchiveNotification',
      request: { params: { id: sent.id }, auth: user },
      expect: 200,
      check: (res) => (res.json?.archived === false ? [] : `archived ${res.json?.archived}`),
    },
    {
      name: 'without a token: 401',
      operationId: 'unarchiveNotification',
      request: { params: { id: sent.id } },
      expect: 401,
    },
    {
      name: 'a whole feed cleared',
      operationId: 'clearNotifications',
      request: { auth: otherUser },
      expect: 200,
    },
    {
      name: 'without a token: 401',
      operationId: 'clearNotifications',
      request: {},
      expect: 401,
    },
    {
      name: 'everything read',
      operationId: 'markAllNotificationsRead',
      request: { auth: user },
      expect: 200,
    },
    {
      name: 'without a token: 401',
      operationId: 'markAllNotificationsRead',
      request: {},
      expect: 401,
    },
    // --- preferences ------------------------------------------------------------------------
    {
      name: 'the defaults filled in',
      operationId: 'getPreferences',
      request: { auth: otherUser },
      expect: 200,
      check: (res) => (res.json?.channels?.email === true && res.json?.quiet_hours?.enabled === false ? [] : 'not the defaults'),
    },
    {
      name: 'without a token: 401',
      operationId: 'getPreferences',
      request: {},
      expect: 401,
    },
    {
      name: 'SMS off, quiet nights in Paris',
      operationId: 'updatePreferences',
      request: {
        body: { channels: { sms: false }, categories: { contract: { sms: true } },
          quiet_hours: { enabled: true, start: '22:00', end: '07:00', timezone: 'Europe/Paris' } },
        auth: user,
      },
      expect: 200,
    },
    {
      name: 'a bad time and zone: 400',
      operationId: 'updatePreferences',
      request: { body: { quiet_hours: { enabled: true, start: '22:00', end: '22:00', timezone: 'Atlantis/Deep' } }, auth: user },
      expect: 400,
      check: (res) => ((res.json?.error?.errors ?? []).length === 2 ? [] : JSON.stringify(res.json?.error?.errors)),
    },
    // --- devices ----------------------------------------------------------------------------
    {
      name: 'a new device',
      operationId: 'registerDevice',
      request: { body: { token: `contract-device-${tag}-1`, platform: 'ios', app_version: '1.0' }, auth: user },
      expect: 201,
    },
    {
      name: 'the same token from another account: moved',
      operationId: 'registerDevice',
      request: { body: { token: `contract-device-${tag}-1`, platform: 'ios' }, auth: otherUser },
      expect: 200,
    },
    {
      name: 'an unknown platform: 400',
      operationId: 'registerDevice',
      request: { body: { token: 'x', platform: 'palm' }, auth: user },
      expect: 400,
      check: code('invalid_platform'),
    },
    {
      name: 'my devices',
      operationId: 'listDevices',
      request: { auth: user },
      expect: 200,
    },
    {
      name: 'a bad limit: 400',
      operationId: 'listDevices',
      request: { query: { limit: 0 }, auth: user },
      expect: 400,
    },
    {
      name: "another user's device: 404",
      operationId: 'deleteDevice',
      request: { params: { id: device.id }, auth: otherUser },
      expect: 404,
    },
    {
      name: 'removed',
      operationId: 'deleteDevice',
      request: { params: { id: device.id }, auth: user },
      expect: 204,
    },
    // --- templates --------------------------------------------------------------------------
    {
      name: 'a template with a French variant',
      operationId: 'createTemplate',
      request: {
        body: { key: template, name: 'Contract', channels: { email: { subject: 'Hi {{name}}', text: 'Hello {{name}}', html: '<b>{{name}}</b>' } },
          locales: { fr: { email: { subject: 'Salut {{name}}' } } } },
        auth: admin,
      },
      expect: 201,
    },
    {
      name: 'the same key again: 409',
      operationId: 'createTemplate',
      request: { body: { key: template, channels: { sms: { text: 'x' } } }, auth: admin },
      expect: 409,
      check: code('template_exists'),
    },
    {
      name: 'an unclosed variable: 400',
      operationId: 'createTemplate',
      request: { body: { key: `${template}-b`, channels: { sms: { text: 'Hi {{name' } } }, auth: admin },
      expect: 400,
      check: code('invalid_template'),
    },
    {
      name: 'templates',
      operationId: 'listTemplates',
      request: { auth: admin },
      expect: 200,
    },
    {
      name: 'users cannot: 403',
      operationId: 'listTemplates',
      request: { auth: user },
      expect: 403,
    },
    {
      name: 'the template',
      operationId: 'getTemplate',
      request: { params: { key: template }, auth: admin },
      expect: 200,
    },
    {
      name: 'an unknown key: 404',
      operationId: 'getTemplate',
      request: { params: { key: `${template}-none` }, auth: admin },
      expect: 404,
    },
    {
      name: 'rendered in French, escaped in HTML',
      operationId: 'previewTemplate',
      request: { params: { key: template }, body: { data: { name: '<Ada>' }, locale: 'fr' }, auth: admin },
      expect: 200,
      check: (res) => [
        res.json?.channels?.email?.subject === 'Salut <Ada>' ? null : `subject ${res.json?.channels?.email?.subject}`,
        res.json?.channels?.email?.html === '<b>&lt;Ada&gt;</b>' ? null : `html ${res.json?.channels?.email?.html}`,
      ],
    },
    {
      name: 'a missing variable: 422 naming it',
      operationId: 'previewTemplate',
      request: { params: { key: template }, body: { data: {} }, auth: admin },
      expect: 422,
      check: (res) => (res.json?.error?.param === 'data.name' ? [] : `param ${res.json?.error?.param}`),
    },
    {
      name: 'replaced',
      operationId: 'replaceTemplate',
      request: { params: { key: template }, body: { channels: { sms: { text: 'Hi {{name}}' } } }, auth: admin },
      expect: 200,
    },
    {
      name: 'an unknown key: 404',
      operationId: 'replaceTemplate',
      request: { params: { key: `${template}-none` }, body: { channels: { sms: { text: 'x' } } }, auth: admin },
      expect: 404,
    },
    // --- queues and deliveries --------------------------------------------------------------
    {
      name: 'every queue',
      operationId: 'listQueues',
      request: { auth: admin },
      expect: 200,
      check: (res) => (res.json?.data?.length === 4 ? [] : `${res.json?.data?.length} queues`),
    },
    {
      name: 'API keys cannot: 403',
      operationId: 'listQueues',
      request: { auth: apiKey },
      expect: 403,
    },
    {
      name: 'my deliveries',
      operationId: 'listDeliveries',
      request: { query: { user_id: me.id, channel: 'sms', created_gte: '2020-01-01T00:00:00Z' }, auth: admin },
      expect: 200,
    },
    {
      name: 'an unknown status: 400',
      operationId: 'listDeliveries',
      request: { query: { status: 'lost' }, auth: admin },
      expect: 400,
    },
    {
      name: 'counts of the last day',
      operationId: 'getDeliveryStats',
      request: { auth: admin },
      expect: 200,
    },
    {
      name: 'a bad since: 400',
      operationId: 'getDeliveryStats',
      request: { query: { since: 'yesterday' }, auth: admin },
      expect: 400,
    },
    {
      name: 'a dead SMS back on its queue',
      operationId: 'retryDelivery',
      request: { params: { id: sms }, auth: admin },
      expect: 200,
      check: (res) => (res.json?.status === 'queued' ? [] : `status ${res.json?.status}`),
    },
    {
      name: 'queued already: 409 not_retryable',
      operationId: 'retryDelivery',
      request: { params: { id: sms }, auth: admin },
      expect: 409,
      check: code('not_retryable'),
    },
    // --- deletions last ---------------------------------------------------------------------
    {
      name: 'deleted from my feed',
      operationId: 'deleteNotification',
      request: { params: { id: sent.id }, auth: user },
      expect: 204,
    },
    {
      name: 'gone: 404',
      operationId: 'deleteNotification',
      request: { params: { id: sent.id }, auth: user },
      expect: 404,
    },
    {
      name: 'deleted',
      operationId: 'deleteTemplate',
      request: { params: { key: template }, auth: admin },
      expect: 204,
    },
    {
      name: 'gone: 404',
      operationId: 'deleteTemplate',
      request: { params: { key: template }, auth: admin },
      expect: 404,
    },
  ];
}
