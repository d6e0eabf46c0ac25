// Workers: POST /api/v1/webhooks/sms/status (the SMS provider's status callbacks).
//
// An `sms` server has HERALD_SMS_AUTH_TOKEN and no HERALD_SMS_STATUS_CALLBACK_URL, so it
// checks X-Twilio-Signature against the URL it is called at; `main` has no token and answers
// the 503 of an unconfigured server. The worker tests (tests/workers/test_worker_sms.c) cover
// receipts of real deliveries; here an unknown MessageSid is acknowledged with a 204.
import { createHmac } from 'node:crypto';

const TOKEN = 'sms-contract-auth-token';

export const servers = {
  sms: () => ({ HERALD_SMS_AUTH_TOKEN: TOKEN }),
};

const FORM = 'application/x-www-form-urlencoded';
const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);

/** The signature Twilio sends: base64 HMAC-SHA1 of the URL and the sorted fields. */
function signature(url, fields, token = TOKEN) {
  const data = url + Object.keys(fields).sort().map((k) => k + fields[k]).join('');
  return createHmac('sha1', token).update(data).digest('base64');
}

export default async function workers(h) {
  const base = (await h.server('sms')).base;
  const url = `${base}/api/v1/webhooks/sms/status`;
  const fields = { MessageSid: 'SMcontract0000000000000000000000', MessageStatus: 'delivered',
    AccountSid: 'ACcontract', To: '+14155550123', From: '+15005550006' };
  const body = new URLSearchParams(fields).toString();
  const noStatus = { MessageSid: 'SMcontract0000000000000000000001' };
  const S = 'sms';
  const op = 'receiveSmsStatus';
  return [
    {
      name: 'a signed callback (unknown message: acknowledged)',
      operationId: op,
      request: { headers: { 'X-Twilio-Signature': signature(url, fields) }, rawBody: body, contentType: FORM },
      expect: 204,
      server: S,
    },
    {
      name: 'a callback signed with another token',
      operationId: op,
      request: { headers: { 'X-Twilio-Signature': signature(url, fields, 'wrong') }, rawBody: body, contentType: FORM },
      expect: 400,
      server: S,
      check: code('invalid_signature'),
    },
    {
      name: 'a signed callback without MessageStatus',
      operationId: op,
      request: { headers: { 'X-Twilio-Signature': signature(url, noStatus) }, rawBody: new URLSearchParams(noStatus).toString(), contentType: FORM },
      expect: 400,
      server: S,
      check: code('missing_field'),
    },
    {
      name: 'JSON instead of a form',
      operationId: op,
      request: { headers: { 'X-Twilio-Signature': signature(url, fields) }, rawBody: JSON.stringify(fields), contentType: 'application/json' },
      expect: 415,
      server: S,
    },
    {
      name: 'a server without an SMS auth token',
      operationId: op,
      request: { headers: { 'X-Twilio-Signature': signature(url, fields) }, rawBody: body, contentType: FORM },
      expect: 503,
      check: code('service_unavailable'),
    },
  ];
}
