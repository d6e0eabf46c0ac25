// Accounts: /api/v1/auth/*, /api/v1/users/me*, /api/v1/admin/{users,api-keys,audit-log}.
//
// The setup (run when the file loads) registers its own users with unique e-mail addresses and
// prepares what the calls need: tokens, a locked and a disabled account, the raw tokens of the
// password-reset and verification e-mails (read from PostgreSQL, lib/psql.mjs), an API key.
// The calls then run in this order; each one's state was prepared for it alone.
import { randomBytes, randomUUID } from 'node:crypto';

import { signUp } from '../lib/auth.mjs';
import { emailToken } from '../lib/psql.mjs';

// Extra servers (environment on top of the stack's). The shared stack is never stopped.
export const servers = {
  // One failed sign-in locks the account (the lock lives in PostgreSQL, so main sees it too).
  lockout: () => ({ HERALD_LOCKOUT_THRESHOLD: '1', HERALD_AUTH_RATE_LIMIT: '1000000' }),
  // One auth request per client IP and hour: the second one is a 429 rate_limited.
  ratelimited: () => ({ HERALD_AUTH_RATE_LIMIT: '1', HERALD_AUTH_RATE_WINDOW_S: '3600' }),
  // PostgreSQL unreachable (a closed loopback port): 503s.
  nodb: () => ({
    HERALD_DATABASE_URL: 'postgresql://herald@127.0.0.1:1/herald',
    HERALD_DB_CONNECT_TIMEOUT_S: '1',
    HERALD_AUTH_RATE_LIMIT: '1000000',
  }),
};

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);

function must(res, status, what) {
  if (res.error || res.status !== status) {
    throw new Error(`setup: ${what}: expected ${status}, got ${res.error ?? `${res.status} ${res.text.slice(0, 300)}`}`);
  }
  return res.json;
}

export default async function accounts(h) {
  const tag = randomBytes(5).toString('hex');
  const prefix = `contract-acct-${tag}-`;
  const email = (who) => `${prefix}${who}@example.test`;
  const password = `Contract passphrase ${tag}`;
  const newPassword = `Another passphrase ${tag}`;

  const register = (who, extra = {}) => signUp(h, { email: email(who), password, ...extra });
  const login = (mail, pw, server = 'main') => h.call('login', { body: { email: mail, password: pw } }, server);

  const me = await register('me', { name: 'Contract Me', phone: '+14155550123' });
  const sessions = await register('sessions');
  const sessions2 = must(await login(sessions.email, password), 200, 'second sign-in');
  const leaver = await register('leaver');
  const locked = await register('locked');
  must(await login(locked.email, 'not the password', 'lockout'), 401, 'failed sign-in that locks');
  const disabled = await register('disabled');
  const resetter = await register('resetter');
  const changer = await register('changer');
  must(await h.call('requestPasswordReset', { body: { email: resetter.email } }), 202, 'password reset request');
  const resetToken = emailToken(resetter.id, 'password_reset');
  const verifyToken = emailToken(me.id, 'email_verification');
  if (!resetToken || !verifyToken) throw new Error('setup: the e-mail tokens are not in notifications.data');
  const adminId = must(await h.call('getMe', { auth: 'admin' }), 200, 'the admin reads itself').id;
  const key = must(await h.call('createApiKey', { body: { name: `contract ${tag}` }, auth: 'admin' }), 201, 'create an API key');

  const user = { token: me.access };
  const apiKey = { token: key.secret };

  return [
    // --- register -------------------------------------------------------------------------
    {
      name: 'a new account, then signing in',
      operationId: 'register',
      request: { body: { email: email('new'), password, name: null, timezone: 'America/Sao_Paulo', locale: 'pt-BR' } },
      expect: 202,
      check: async (res, hh) => {
        const signIn = await hh.call('login', { body: { email: email('new'), password } });
        const user = (await hh.call('getMe', { auth: { token: signIn.json?.access_token } })).json;
        return [
          user?.email === email('new') ? null : `user.email ${user?.email}`,
          user?.timezone === 'America/Sao_Paulo' ? null : `user.timezone ${user?.timezone}`,
          user?.name === null ? null : `user.name ${user?.name}`,
          user?.role === 'user' && user?.email_verified === false ? null : 'not an unverified user',
        ];
      },
    },
    {
      name: 'the same address in other case: the same 202 (nothing tells it is taken)',
      operationId: 'register',
      request: { body: { email: me.email.toUpperCase(), password: newPassword } },
      expect: 202,
      check: async (res, hh) => {
        const signIn = await hh.call('login', { body: { email: me.email, password } });
        return signIn.status === 200 ? [] : `the owner's password no longer works: ${signIn.status}`;
      },
    },
    {
      name: 'every field error at once',
      operationId: 'register',
      request: { body: { email: 'not-an-address', password: 'short', phone: '555', locale: 'EN', extra: 1 } },
      expect: 400,
      check: (res) => {
        const got = (res.json?.error?.errors ?? []).map((e) => `${e.param}:${e.code}`).sort().join(' ');
        const want = 'email:invalid_email extra:unknown_field locale:invalid_locale password:password_too_short phone:invalid_phone';
        return got === want ? [] : `errors ${got}`;
      },
    },
    {
      name: 'a welcome probe that uses up the rate limit of a strict server',
      operationId: 'getMe',
      request: { auth: user },
      expect: 200,
      // Two requests to the "ratelimited" server right before the next call (limit 1 per hour).
      check: async (res, hh) => {
        for (let i = 0; i < 2; i++) await hh.call('register', { body: { email: 'x' } }, 'ratelimited');
        return [];
      },
    },
    {
      name: 'over the per-IP limit: 429 rate_limited with Retry-After',
      operationId: 'register',
      server: 'ratelimited',
      request: { body: { email: email('limited'), password } },
      expect: 429,
      check: (res) => [code('rate_limited')(res), Number(res.headers['retry-after']) > 0 ? null : `Retry-After ${res.headers['retry-after']}`].flat(),
    },
    // --- login ----------------------------------------------------------------------------
    {
      name: 'the right password',
      operationId: 'login',
      request: { body: { email: me.email, password } },
      expect: 200,
      check: (res) => (res.json?.token_type === 'Bearer' && res.json?.expires_in > 0 ? [] : `token_type ${res.json?.token_type}`),
    },
    {
      name: 'a wrong password is a 401 invalid_credentials',
      operationId: 'login',
      request: { body: { email: me.email, password: 'not the password' } },
      expect: 401,
      check: code('invalid_credentials'),
    },
    {
      name: 'an unknown address gets the same 401',
      operationId: 'login',
      request: { body: { email: email('nobody'), password } },
      expect: 401,
      check: code('invalid_credentials'),
    },
    {
      name: 'a locked account, even with the right password: 429 account_locked',
      operationId: 'login',
      request: { body: { email: locked.email, password } },
      expect: 429,
      check: (res) => [code('account_locked')(res), Number(res.headers['retry-after']) > 0 ? null : `Retry-After ${res.headers['retry-after']}`].flat(),
    },
    {
      name: 'the admin disables an account',
      operationId: 'updateAdminUser',
      request: { params: { id: disabled.id }, body: { disabled: true }, auth: 'admin' },
      expect: 200,
      check: (res) => (res.json?.status === 'disabled' ? [] : `status ${res.json?.status}`),
    },
    {
      name: 'a disabled account: 403 account_disabled',
      operationId: 'login',
      request: { body: { email: disabled.email, password } },
      expect: 403,
      check: code('account_disabled'),
    },
    {
      name: 'PostgreSQL down: 503',
      operationId: 'login',
      server: 'nodb',
      request: { body: { email: me.email, password } },
      expect: 503,
      check: code('service_unavailable'),
    },
    // --- refresh, logout ------------------------------------------------------------------
    {
      name: 'a refresh token for a new pair',
      operationId: 'refreshTokens',
      request: { body: { refresh_token: sessions.refresh } },
      expect: 200,
      check: (res) => (res.json?.refresh_token && res.json.refresh_token !== sessions.refresh ? [] : 'the refresh token was not rotated'),
    },
    {
      name: 'the same refresh token again: 401 invalid_refresh_token',
      operationId: 'refreshTokens',
      request: { body: { refresh_token: sessions.refresh } },
      expect: 401,
      check: code('invalid_refresh_token'),
    },
    {
      name: 'sign out',
      operationId: 'logout',
      request: { body: { refresh_token: sessions2.refresh_token } },
      expect: 204,
      check: async (res, hh) => {
        const again = await hh.call('refreshTokens', { body: { refresh_token: sessions2.refresh_token } });
        return again.status === 401 ? [] : `the signed-out refresh token still refreshes: ${again.status}`;
      },
    },
    {
      name: 'without the refresh token: 400',
      operationId: 'logout',
      request: { body: {} },
      expect: 400,
      check: (res) => (res.json?.error?.param === 'refresh_token' ? [] : `param ${res.json?.error?.param}`),
    },
    // --- password reset, e-mail verification ----------------------------------------------
    {
      name: 'a reset for an existing account',
      operationId: 'requestPasswordReset',
      request: { body: { email: me.email } },
      expect: 202,
    },
    {
      name: 'the same 202 for an unknown address',
      operationId: 'requestPasswordReset',
      request: { body: { email: email('nobody') } },
      expect: 202,
    },
    {
      name: 'not an e-mail address: 400',
      operationId: 'requestPasswordReset',
      request: { body: { email: 'nope' } },
      expect: 400,
      check: code('invalid_email'),
    },
    {
      name: 'the token of the e-mail sets a new password',
      operationId: 'confirmPasswordReset',
      request: { body: { token: resetToken, new_password: newPassword } },
      expect: 204,
      check: async (res, hh) => {
        const signIn = await hh.call('login', { body: { email: resetter.email, password: newPassword } });
        return signIn.status === 200 ? [] : `sign-in with the new password: ${signIn.status}`;
      },
    },
    {
      name: 'the same token again: 400 invalid_token',
      operationId: 'confirmPasswordReset',
      request: { body: { token: resetToken, new_password: newPassword } },
      expect: 400,
      check: code('invalid_token'),
    },
    {
      name: 'the token of the verification e-mail',
      operationId: 'verifyEmail',
      request: { body: { token: verifyToken } },
      expect: 204,
      check: async (res, hh) => {
        const after = await hh.call('getMe', { auth: user });
        return after.json?.email_verified === true ? [] : `email_verified is ${after.json?.email_verified}`;
      },
    },
    {
      name: 'the same token again: 400 invalid_token',
      operationId: 'verifyEmail',
      request: { body: { token: verifyToken } },
      expect: 400,
      check: code('invalid_token'),
    },
    // --- /users/me ------------------------------------------------------------------------
    {
      name: 'your account',
      operationId: 'getMe',
      request: { auth: user },
      expect: 200,
      check: (res) => (res.json?.id === me.id && res.json?.email === me.email ? [] : `id ${res.json?.id}`),
    },
    {
      name: 'no token: 401',
      operationId: 'getMe',
      expect: 401,
      check: code('missing_token'),
    },
    {
      name: 'an API key: 403',
      operationId: 'getMe',
      request: { auth: apiKey },
      expect: 403,
    },
    {
      name: 'PostgreSQL down: 503',
      operationId: 'getMe',
      server: 'nodb',
      request: { auth: user },
      expect: 503,
    },
    {
      name: 'change the name, clear the phone',
      operationId: 'updateMe',
      request: { body: { name: 'Contract Renamed', phone: null, timezone: 'Asia/Tokyo' }, auth: user },
      expect: 200,
      check: (res) => [
        res.json?.name === 'Contract Renamed' ? null : `name ${res.json?.name}`,
        res.json?.phone === null ? null : `phone ${res.json?.phone}`,
        res.json?.timezone === 'Asia/Tokyo' ? null : `timezone ${res.json?.timezone}`,
        res.json?.locale === 'en' ? null : `locale ${res.json?.locale} (should be untouched)`,
      ],
    },
    {
      name: 'timezone cannot be cleared: 400',
      operationId: 'updateMe',
      request: { body: { timezone: null }, auth: user },
      expect: 400,
      check: (res) => (res.json?.error?.param === 'timezone' ? [] : `param ${res.json?.error?.param}`),
    },
    {
      name: 'your data, as a download',
      operationId: 'exportMe',
      request: { auth: user },
      expect: 200,
      check: (res) => [
        res.json?.user?.id === me.id ? null : `user.id ${res.json?.user?.id}`,
        (res.json?.audit_log ?? []).some((e) => e.action === 'user.registered') ? null : 'no user.registered in audit_log',
        (res.json?.notifications ?? []).length >= 1 ? null : 'the verification e-mail is not in notifications',
      ],
    },
    {
      name: 'an invalid token: 401',
      operationId: 'exportMe',
      request: { auth: { token: 'not.a.jwt' } },
      expect: 401,
      check: code('invalid_token'),
    },
    {
      name: 'a wrong current password: 403 incorrect_password',
      operationId: 'changePassword',
      request: { body: { current_password: 'not the password', new_password: newPassword }, auth: user },
      expect: 403,
      check: code('incorrect_password'),
    },
    {
      name: 'a new password (every session ends, this one too)',
      operationId: 'changePassword',
      request: { body: { current_password: password, new_password: newPassword }, auth: { token: changer.access } },
      expect: 204,
      check: async (res, hh) => {
        const signIn = await hh.call('login', { body: { email: changer.email, password: newPassword } });
        const old = await hh.call('getMe', { auth: { token: changer.access } });
        return [
          signIn.status === 200 ? null : `sign-in with the new password: ${signIn.status}`,
          old.status === 401 ? null : `the old access token still works: ${old.status}`,
        ];
      },
    },
    {
      name: 'delete your account',
      operationId: 'deleteMe',
      request: { auth: { token: leaver.access } },
      expect: 204,
      check: async (res, hh) => {
        const signIn = await hh.call('login', { body: { email: leaver.email, password } });
        return signIn.status === 401 ? [] : `the deleted account still signs in: ${signIn.status}`;
      },
    },
    {
      name: 'again, with the same access token: 401 invalid_token',
      operationId: 'deleteMe',
      request: { auth: { token: leaver.access } },
      expect: 401,
      check: code('invalid_token'),
    },
    {
      name: 'a deleted account\'s access token: 401 invalid_token',
      operationId: 'getMe',
      request: { auth: { token: leaver.access } },
      expect: 401,
      check: code('invalid_token'),
    },
    // --- /admin/users ---------------------------------------------------------------------
    {
      name: 'users by e-mail prefix, a page of 2',
      operationId: 'listAdminUsers',
      request: { query: { email: prefix.toUpperCase(), role: 'user', status: 'active', limit: 2 }, auth: 'admin' },
      expect: 200,
      check: (res) => [
        res.json?.data?.length === 2 ? null : `${res.json?.data?.length} items`,
        res.json?.has_more === true ? null : 'has_more is not true',
        (res.json?.data ?? []).every((u) => u.email.startsWith(prefix)) ? null : 'an item outside the prefix',
      ],
    },
    {
      name: 'disabled users under the prefix',
      operationId: 'listAdminUsers',
      request: { query: { email: prefix, status: 'disabled' }, auth: 'admin' },
      expect: 200,
      check: (res) => ((res.json?.data ?? []).map((u) => u.id).join() === disabled.id ? [] : `data ${JSON.stringify(res.json?.data?.map((u) => u.email))}`),
    },
    {
      name: 'an unknown role filter: 400',
      operationId: 'listAdminUsers',
      request: { query: { role: 'root' }, auth: 'admin' },
      expect: 400,
      check: code('invalid_filter'),
    },
    {
      name: 'a user is not an admin: 403',
      operationId: 'listAdminUsers',
      request: { auth: user },
      expect: 403,
    },
    {
      name: 'one user',
      operationId: 'getAdminUser',
      request: { params: { id: me.id }, auth: 'admin' },
      expect: 200,
      check: (res) => (res.json?.id === me.id ? [] : `id ${res.json?.id}`),
    },
    {
      name: 'no such user: 404',
      operationId: 'getAdminUser',
      request: { params: { id: randomUUID() }, auth: 'admin' },
      expect: 404,
    },
    {
      name: 'a deleted user: 404',
      operationId: 'getAdminUser',
      request: { params: { id: leaver.id }, auth: 'admin' },
      expect: 404,
    },
    {
      name: 'an admin cannot demote themselves: 422',
      operationId: 'updateAdminUser',
      request: { params: { id: adminId }, body: { role: 'user' }, auth: 'admin' },
      expect: 422,
      check: code('cannot_demote_self'),
    },
    {
      name: 'nothing to update: 400',
      operationId: 'updateAdminUser',
      request: { params: { id: me.id }, body: { role: null }, auth: 'admin' },
      expect: 400,
      check: code('nothing_to_update'),
    },
    {
      name: 'an API key is not an admin: 403',
      operationId: 'updateAdminUser',
      request: { params: { id: me.id }, body: { role: 'admin' }, auth: apiKey },
      expect: 403,
    },
    // --- /admin/api-keys ------------------------------------------------------------------
    {
      name: 'a new key, its secret shown once (then revoked)',
      operationId: 'createApiKey',
      request: { body: { name: `contract new ${tag}` }, auth: 'admin' },
      expect: 201,
      check: async (res, hh) => {
        const problems = [res.json?.secret?.startsWith(res.json?.prefix) ? null : `prefix ${res.json?.prefix} is not the secret's`];
        const used = await hh.call('getMe', { auth: { token: res.json?.secret } });
        if (used.json?.error?.code !== 'forbidden') problems.push(`the new key does not authenticate: ${used.status} ${used.text}`);
        const gone = await hh.call('deleteApiKey', { params: { id: res.json?.id }, auth: 'admin' });
        if (gone.status !== 204) problems.push(`revoking it: ${gone.status}`);
        return problems;
      },
    },
    {
      name: 'an empty name: 400',
      operationId: 'createApiKey',
      request: { body: { name: '' }, auth: 'admin' },
      expect: 400,
      check: (res) => (res.json?.error?.param === 'name' ? [] : `param ${res.json?.error?.param}`),
    },
    {
      name: 'an API key cannot create keys: 403',
      operationId: 'createApiKey',
      request: { body: { name: 'escalation' }, auth: apiKey },
      expect: 403,
    },
    {
      name: 'the keys, newest first',
      operationId: 'listApiKeys',
      request: { query: { limit: 100 }, auth: 'admin' },
      expect: 200,
      check: (res) => [
        (res.json?.data ?? []).some((k) => k.id === key.id && k.last_used_at !== null) ? null : 'the setup key is missing or was never marked used',
        (res.json?.data ?? []).some((k) => 'secret' in k) ? 'a secret is listed' : null,
      ],
    },
    {
      name: 'limit 0: 400',
      operationId: 'listApiKeys',
      request: { query: { limit: 0 }, auth: 'admin' },
      expect: 400,
      check: code('invalid_limit'),
    },
    {
      name: 'revoke the key',
      operationId: 'deleteApiKey',
      request: { params: { id: key.id }, auth: 'admin' },
      expect: 204,
      check: async (res, hh) => {
        const used = await hh.call('getMe', { auth: apiKey });
        return used.json?.error?.code === 'invalid_api_key' ? [] : `the revoked key: ${used.status} ${used.text}`;
      },
    },
    {
      name: 'revoked already: 404',
      operationId: 'deleteApiKey',
      request: { params: { id: key.id }, auth: 'admin' },
      expect: 404,
    },
    // --- /admin/audit-log -----------------------------------------------------------------
    {
      name: 'what happened to one user',
      operationId: 'listAuditLog',
      request: { query: { target_id: disabled.id, action: 'user.status_changed', created_gte: '2020-01-01T00:00:00Z', actor_id: adminId }, auth: 'admin' },
      expect: 200,
      check: (res) => (res.json?.data?.length === 1 && res.json.data[0].actor_type === 'user' ? [] : `data ${JSON.stringify(res.json?.data)}`),
    },
    {
      name: 'not a timestamp: 400',
      operationId: 'listAuditLog',
      request: { query: { created_lte: 'yesterday' }, auth: 'admin' },
      expect: 400,
      check: code('invalid_timestamp'),
    },
  ];
}
