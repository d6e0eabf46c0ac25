// Providers: the e-mail providers' event webhooks (SendGrid's ECDSA-signed Event Webhook,
// Mailgun's HMAC-signed webhooks), Vonage's signed delivery receipts and inbound SMS, and
// Twilio's inbound SMS.
//
// A `providers` server holds every webhook key (an ECDSA P-256 key made here, its public
// half as HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY); `main` holds none and answers 503. The worker
// tests (tests/workers/test_worker_feedback.c) cover what the events change; here the
// addresses are fresh and the receipts are about unknown messages.
import { createHmac, createSign, generateKeyPairSync, randomUUID } from 'node:crypto';

const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const SENDGRID_KEY = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const MAILGUN_KEY = 'mailgun-contract-signing-key';
const VONAGE_SECRET = 'vonage-contract-signature-secret';
const TWILIO_TOKEN = 'twilio-contract-auth-token';

export const servers = {
  providers: () => ({
    HERALD_SENDGRID_WEBHOOK_PUBLIC_KEY: SENDGRID_KEY,
    HERALD_MAILGUN_WEBHOOK_SIGNING_KEY: MAILGUN_KEY,
    HERALD_VONAGE_SIGNATURE_SECRET: VONAGE_SECRET,
    HERALD_SMS_AUTH_TOKEN: TWILIO_TOKEN,
  }),
};

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';
const code = (expected) => (res) => (res.json?.error?.code === expected ? [] : `code ${res.json?.error?.code}, expected ${expected}`);
const now = () => String(Math.floor(Date.now() / 1000));

function sendgridHeaders(body, ts = now()) {
  const sign = createSign('SHA256');
  sign.update(ts + body);
  return { 'X-Twilio-Email-Event-Webhook-Signature': sign.sign(privateKey).toString('base64'),
    'X-Twilio-Email-Event-Webhook-Timestamp': ts };
}

function mailgunBody(eventData, key = MAILGUN_KEY) {
  const timestamp = now();
  const token = randomUUID().replaceAll('-', '');
  const signature = createHmac('sha256', key).update(timestamp + token).digest('hex');
  return JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': eventData });
}

function vonageForm(fields, secret = VONAGE_SECRET) {
  const all = { ...fields, timestamp: now(), nonce: randomUUID() };
  const data = Object.keys(all).sort().map((k) => `&${k}=${all[k].replace(/[&=]/g, '_')}`).join('');
  all.sig = createHmac('sha256', secret).update(data).digest('hex').toUpperCase();
  return new URLSearchParams(all).toString();
}

function twilioSignature(url, fields, token = TWILIO_TOKEN) {
  const data = url + Object.keys(fields).sort().map((k) => k + fields[k]).join('');
  return createHmac('sha1', token).update(data).digest('base64');
}

export default async function providers(h) {
  const base = (await h.server('providers')).base;
  const S = 'providers';
  const gone = () => `contract-${randomUUID()}@example.com`;
  const events = JSON.stringify([{ email: gone(), event: 'bounce', type: 'bounce', status: '5.1.1',
    sg_event_id: randomUUID() }, { email: gone(), event: 'delivered' }]);
  const mailgun = mailgunBody({ event: 'failed', severity: 'permanent', recipient: gone(), id: randomUUID() });
  const receipt = { messageId: 'CONTRACT00000000001', status: 'delivered', 'err-code': '0', msisdn: '447700900000' };
  const inboundUrl = `${base}/api/v1/webhooks/sms/inbound`;
  const inbound = { From: '+14155550100', To: '+15005550006', Body: 'HELP', MessageSid: 'SMcontract0000000000000000000002' };
  return [
    {
      name: 'a signed SendGrid batch (a bounce suppresses its address)',
      operationId: 'receiveSendgridEvents',
      request: { headers: sendgridHeaders(events), rawBody: events, contentType: JSON_TYPE },
      expect: 204,
      server: S,
    },
    {
      name: 'a SendGrid batch signed an hour ago',
      operationId: 'receiveSendgridEvents',
      request: { headers: sendgridHeaders(events, String(Number(now()) - 3600)), rawBody: events, contentType: JSON_TYPE },
      expect: 400,
      server: S,
      check: code('invalid_signature'),
    },
    {
      name: 'a SendGrid bounce without its address',
      operationId: 'receiveSendgridEvents',
      request: { headers: sendgridHeaders('[{"event":"bounce"}]'), rawBody: '[{"event":"bounce"}]', contentType: JSON_TYPE },
      expect: 400,
      server: S,
      check: code('invalid_email'),
    },
    {
      name: 'SendGrid events on a server without the verification key',
      operationId: 'receiveSendgridEvents',
      request: { headers: sendgridHeaders(events), rawBody: events, contentType: JSON_TYPE },
      expect: 503,
    },
    {
      name: 'a signed Mailgun permanent failure',
      operationId: 'receiveMailgunEvent',
      request: { rawBody: mailgun, contentType: JSON_TYPE },
      expect: 204,
      server: S,
    },
    {
      name: 'a Mailgun event signed with another key',
      operationId: 'receiveMailgunEvent',
      request: { rawBody: mailgunBody({ event: 'complained', recipient: gone() }, 'wrong'), contentType: JSON_TYPE },
      expect: 400,
      server: S,
      check: code('invalid_signature'),
    },
    {
      name: 'a signed Vonage receipt (unknown message: acknowledged)',
      operationId: 'receiveVonageReceipt',
      request: { rawBody: vonageForm(receipt), contentType: FORM },
      expect: 204,
      server: S,
    },
    {
      name: 'a Vonage receipt signed with another secret',
      operationId: 'receiveVonageReceipt',
      request: { rawBody: vonageForm(receipt, 'wrong'), contentType: FORM },
      expect: 400,
      server: S,
      check: code('invalid_signature'),
    },
    {
      name: 'a signed Vonage receipt with an unknown status',
      operationId: 'receiveVonageReceipt',
      request: { rawBody: vonageForm({ ...receipt, status: 'teleported' }), contentType: FORM },
      expect: 400,
      server: S,
      check: code('invalid_status'),
    },
    {
      name: 'a Vonage receipt on a server without the signature secret',
      operationId: 'receiveVonageReceipt',
      request: { rawBody: vonageForm(receipt), contentType: FORM },
      expect: 503,
    },
    {
      name: 'a signed Vonage inbound STOP from an unknown number',
      operationId: 'receiveVonageInbound',
      request: { rawBody: vonageForm({ msisdn: '14155550100', to: '447700900000', text: 'STOP' }), contentType: FORM },
      expect: 204,
      server: S,
    },
    {
      name: 'a signed Vonage inbound text without its sender',
      operationId: 'receiveVonageInbound',
      request: { rawBody: vonageForm({ to: '447700900000', text: 'STOP' }), contentType: FORM },
      expect: 400,
      server: S,
      check: code('missing_field'),
    },
    {
      name: 'a signed Twilio inbound HELP (answered in TwiML)',
      operationId: 'receiveInboundSms',
      request: { headers: { 'X-Twilio-Signature': twilioSignature(inboundUrl, inbound) }, rawBody: new URLSearchParams(inbound).toString(), contentType: FORM },
      expect: 200,
      server: S,
      check: (res) => (/<Message>[^<]+<\/Message>/.test(res.text) ? [] : `no <Message> in ${res.text}`),
    },
    {
      name: 'a Twilio inbound text signed with another token',
      operationId: 'receiveInboundSms',
      request: { headers: { 'X-Twilio-Signature': twilioSignature(inboundUrl, inbound, 'wrong') }, rawBody: new URLSearchParams(inbound).toString(), contentType: FORM },
      expect: 400,
      server: S,
      check: code('invalid_signature'),
    },
    {
      name: 'a Twilio inbound text on a server without an SMS auth token',
      operationId: 'receiveInboundSms',
      request: { headers: { 'X-Twilio-Signature': twilioSignature(inboundUrl, inbound) }, rawBody: new URLSearchParams(inbound).toString(), contentType: FORM },
      expect: 503,
    },
  ];
}
