// Sessions (/api/v1/users/me/sessions) and two-factor authentication (/api/v1/users/me/mfa/totp,
// /api/v1/auth/mfa/verify, and the 202 of /api/v1/auth/login).
//
// The setup registers its own users. TOTP codes depend on the clock, so calls whose body needs
// one get a body object that the previous call's check fills in just before it runs (a call's
// request is read when it runs).
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

import { signUp } from '../lib/auth.mjs';

const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);

function must(res, status, what) {
  if (res.error || res.status !== status) {
    throw new Error(`setup: ${what}: expected ${status}, got ${res.error ?? `${res.status} ${res.text.slice(0, 300)}`}`);
  }
  return res.json;
}

// RFC 4648 base32 (no padding) to bytes.
function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// The 6-digit TOTP code (RFC 6238, SHA-1, 30 s) of secret, delta steps from now.
function totp(secret, delta = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + delta));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}

export default async function security(h) {
  const tag = randomBytes(5).toString('hex');
  const email = (who) => `contract-sec-${tag}-${who}@example.test`;
  const password = `Contract passphrase ${tag}`;
  const register = (who) => signUp(h, { email: email(who), password });
  const login = async (who) => must(await h.call('login', { body: { email: who.email, password } }), 200, `sign in ${who.email}`);

  // Sessions: a reader, one to end a single session, one to sign out everywhere.
  const reader = await register('reader');
  await login(reader);
  const single = await register('single');
  await login(single);
  const listed = must(await h.call('listSessions', { auth: { token: single.access } }), 200, 'list sessions');
  const other = listed.data.find((s) => !s.current);
  if (!other) throw new Error('setup: no second session');
  const everywhere = await register('everywhere');

  // Two-factor: one account goes through the whole flow, another has a pending secret.
  const mfa = await register('mfa');
  const pending = await register('pending');
  must(await h.call('enrolTotp', { auth: { token: pending.access } }), 201, 'enrol the pending account');
  let secret = '';
  const confirmBody = { code: '000000' };
  const verifyBody = { challenge: 'mc_unset', code: '000000' };
  const wrongBody = { challenge: 'mc_unset', code: '000000' };
  const disableBody = { recovery_code: 'unset' };

  return [
    // --- sessions -------------------------------------------------------------------------
    {
      name: 'your sessions, this one marked current',
      operationId: 'listSessions',
      request: { auth: { token: reader.access } },
      expect: 200,
      check: (res) => [
        res.json?.data?.length === 2 ? null : `${res.json?.data?.length} sessions, expected 2`,
        res.json?.data?.filter((s) => s.current).length === 1 ? null : 'not exactly one current session',
      ],
    },
    {
      name: 'no token: 401',
      operationId: 'listSessions',
      expect: 401,
    },
    {
      name: 'not a session of yours: 404',
      operationId: 'revokeSession',
      request: { params: { id: randomUUID() }, auth: { token: reader.access } },
      expect: 404,
      check: code('not_found'),
    },
    {
      name: 'end the other session',
      operationId: 'revokeSession',
      request: { params: { id: other.id }, auth: { token: single.access } },
      expect: 204,
      check: async (res, hh) => {
        const refreshed = await hh.call('refreshTokens', { body: { refresh_token: single.refresh } });
        const list = await hh.call('listSessions', { auth: { token: refreshed.json?.access_token } });
        return [
          refreshed.status === 200 ? null : `this session's refresh token: ${refreshed.status}`,
          list.json?.data?.length === 1 ? null : `${list.json?.data?.length} sessions left, expected 1`,
        ];
      },
    },
    {
      name: 'sign out everywhere',
      operationId: 'revokeAllSessions',
      request: { auth: { token: everywhere.access } },
      expect: 204,
      check: async (res, hh) => {
        const me = await hh.call('getMe', { auth: { token: everywhere.access } });
        const refreshed = await hh.call('refreshTokens', { body: { refresh_token: everywhere.refresh } });
        return [
          me.status === 401 ? null : `the access token still works: ${me.status}`,
          refreshed.status === 401 ? null : `the refresh token still works: ${refreshed.status}`,
        ];
      },
    },
    {
      name: 'again, with the ended token: 401',
      operationId: 'revokeAllSessions',
      request: { auth: { token: everywhere.access } },
      expect: 401,
      check: code('invalid_token'),
    },
    // --- two-factor authentication ------------------------------------------------------------
    {
      name: 'a new TOTP secret',
      operationId: 'enrolTotp',
      request: { auth: { token: mfa.access } },
      expect: 201,
      check: (res) => {
        secret = res.json?.secret ?? '';
        confirmBody.code = totp(secret);
        return res.json?.otpauth_uri?.includes(secret) ? [] : 'the URI lacks the secret';
      },
    },
    {
      name: 'a wrong code: 422 invalid_code',
      operationId: 'confirmTotp',
      request: { body: { code: '000000' }, auth: { token: pending.access } },
      expect: 422,
      check: code('invalid_code'),
    },
    {
      name: 'the current code turns it on, with recovery codes',
      operationId: 'confirmTotp',
      request: { body: confirmBody, auth: { token: mfa.access } },
      expect: 200,
      check: (res) => {
        disableBody.recovery_code = res.json?.codes?.[0];
        return [];
      },
    },
    {
      name: 'nothing pending any more: 409 mfa_not_pending',
      operationId: 'confirmTotp',
      request: { body: { code: '123456' }, auth: { token: mfa.access } },
      expect: 409,
      check: code('mfa_not_pending'),
    },
    {
      name: 'already on: 409 mfa_already_enabled',
      operationId: 'enrolTotp',
      request: { auth: { token: mfa.access } },
      expect: 409,
      check: code('mfa_already_enabled'),
    },
    {
      name: 'the right password of an account with TOTP: 202 and a challenge',
      operationId: 'login',
      request: { body: { email: mfa.email, password } },
      expect: 202,
      check: (res) => {
        verifyBody.challenge = res.json?.challenge;
        wrongBody.challenge = res.json?.challenge;
        verifyBody.code = totp(secret, 1); /* the current step's code was used to confirm */
        return [];
      },
    },
    {
      name: 'a wrong code: 401 invalid_code',
      operationId: 'verifyMfa',
      request: { body: wrongBody },
      expect: 401,
      check: code('invalid_code'),
    },
    {
      name: 'the next code completes the sign-in',
      operationId: 'verifyMfa',
      request: { body: verifyBody },
      expect: 200,
    },
    {
      name: 'the same challenge again: 401 invalid_challenge',
      operationId: 'verifyMfa',
      request: { body: verifyBody },
      expect: 401,
      check: code('invalid_challenge'),
    },
    {
      name: 'neither code nor recovery code: 400',
      operationId: 'verifyMfa',
      request: { body: { challenge: 'mc_whatever' } },
      expect: 400,
      check: code('code_or_recovery_code'),
    },
    {
      name: 'a wrong code does not turn it off: 422',
      operationId: 'disableTotp',
      request: { body: { code: '000000' }, auth: { token: mfa.access } },
      expect: 422,
      check: code('invalid_code'),
    },
    {
      name: 'a recovery code turns it off',
      operationId: 'disableTotp',
      request: { body: disableBody, auth: { token: mfa.access } },
      expect: 204,
    },
    {
      name: 'already off: 409 mfa_not_enabled',
      operationId: 'disableTotp',
      request: { body: { code: '123456' }, auth: { token: mfa.access } },
      expect: 409,
      check: code('mfa_not_enabled'),
    },
  ];
}
