// The contract checker itself: each kind of violation must be reported (node --test test/).
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { checkErrorShape, checkResponse } from '../lib/check.mjs';
import { generateCases } from '../lib/mutate.mjs';
import { fakeContext } from '../lib/selftest.mjs';
import { SchemaValidators, documentedMethods, loadSpec, matchMediaType, matchPath, operations } from '../lib/spec.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const doc = loadSpec(path.join(here, '../../../openapi/openapi.yaml'));
const ctx = { doc, validators: new SchemaValidators(doc) };
const byId = new Map(operations(doc).map((o) => [o.id, o]));

function response(status, json, headers = {}, contentType = 'application/json') {
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  return {
    status,
    headers: {
      'content-type': contentType,
      'x-request-id': 'abc-1',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      ...headers,
    },
    buffer: Buffer.from(text),
    text,
    json: contentType.includes('json') ? JSON.parse(text) : undefined,
  };
}

const HEALTH_OK = { status: 'ok', version: { version: '0.1.0', commit: 'abc1234', build_type: 'Debug' } };

function check(id, res) {
  const o = byId.get(id);
  return checkResponse(ctx, { where: id, responses: o.op.responses, baseTokens: o.pointer }, res);
}

test('every schema of the document compiles', () => {
  assert.deepEqual(ctx.validators.compileAll(), []);
});

test('a conforming response passes', () => {
  assert.deepEqual(check('getHealth', response(200, HEALTH_OK)), []);
});

test('an undocumented status fails', () => {
  const p = check('getHealth', response(500, { error: { type: 'api_error', code: 'x', message: 'm' } }));
  assert.match(p.join(), /status 500 is not documented/);
});

test('an extra property fails (closed schemas)', () => {
  assert.match(check('getHealth', response(200, { ...HEALTH_OK, extra: 1 })).join(), /additional properties \(extra\)/);
});

test('a wrong value fails', () => {
  assert.match(check('getHealth', response(200, { ...HEALTH_OK, status: 'fine' })).join(), /constant/);
});

test('a missing required header fails', () => {
  const res = response(200, HEALTH_OK);
  delete res.headers['x-request-id'];
  assert.match(check('getHealth', res).join(), /required header X-Request-Id is missing/);
});

test('a header value outside its schema fails', () => {
  const res = response(503, { status: 'unavailable', checks: { postgres: 'ok', redis: 'down' } }, { 'retry-after': 'soon' });
  assert.match(check('getReadiness', res).join(), /header Retry-After/);
  const ok = response(503, { status: 'unavailable', checks: { postgres: 'ok', redis: 'down' } }, { 'retry-after': '5' });
  assert.deepEqual(check('getReadiness', ok), []);
});

test('an undocumented Content-Type fails', () => {
  assert.match(check('getMetrics', response(200, '{}', {}, 'application/json')).join(), /Content-Type application\/json is not documented/);
  assert.deepEqual(check('getMetrics', response(200, 'x 1\n', {}, 'text/plain; version=0.0.4; charset=utf-8')), []);
});

test('an error outside the error shape fails', () => {
  assert.match(check('getDocsPage', response(404, { message: 'nope' })).join(), /body does not match/);
  assert.match(check('getDocsPage', response(404, { error: { type: 'api_error', code: 'not_found', message: 'm' } })).join(), /constant/);
  assert.deepEqual(check('getDocsPage', response(404, { error: { type: 'invalid_request_error', code: 'not_found', message: 'm' } })), []);
});

test('a 405 must carry Allow', () => {
  const responses = { 405: { $ref: '#/components/responses/MethodNotAllowed' } };
  const body = { error: { type: 'invalid_request_error', code: 'method_not_allowed', message: 'm' } };
  assert.match(checkResponse(ctx, { where: 'x', responses, baseTokens: [] }, response(405, body)).join(), /Allow is missing/);
  assert.deepEqual(checkResponse(ctx, { where: 'x', responses, baseTokens: [] }, response(405, body, { allow: 'GET' })), []);
});

test('a dropped connection fails', () => {
  assert.match(check('getHealth', { error: 'ECONNRESET: socket hang up' }).join(), /no response/);
  assert.match(checkErrorShape(ctx, { error: 'ECONNRESET' }).join(), /no response/);
});

test('a body where none is documented fails', () => {
  const fake = { 204: { description: 'Nothing.' } };
  assert.match(checkResponse(ctx, { where: 'x', responses: fake, baseTokens: [] }, response(204, { a: 1 })).join(), /none is documented/);
});

test('paths match their templates, literal ones first', () => {
  assert.deepEqual(matchPath(doc, '/docs/redoc.standalone.js'), { template: '/docs/{file}', params: { file: 'redoc.standalone.js' } });
  assert.equal(matchPath(doc, '/docs').template, '/docs');
  assert.equal(matchPath(doc, '/nope'), null);
  assert.deepEqual(documentedMethods(doc, '/healthz'), ['GET']);
  assert.equal(matchMediaType({ 'text/plain': {} }, 'text/plain; charset=utf-8'), 'text/plain');
});

test('every generated case breaks the schema it came from', () => {
  const fake = fakeContext(doc);
  const schemaTokens = ['paths', '/things', 'post', 'requestBody', 'content', 'application/json', 'schema'];
  const base = { name: 'lamp', amount: 1999, currency: 'eur' };
  assert.equal(fake.validators.check(schemaTokens, base), null);
  const cases = generateCases(fake.doc, fake.doc.paths['/things'].post.requestBody.content['application/json'].schema, base);
  const kinds = cases.map((c) => c.name).join('\n');
  for (const kind of ['missing (required)', 'wrong type', 'an unexpected property', '100000-character string', 'above maximum', 'not one of the enum values', 'more than maxItems', 'the body is an array']) {
    assert.ok(kinds.includes(kind), `no "${kind}" case`);
  }
  const stillValid = cases.filter((c) => fake.validators.check(schemaTokens, c.body) === null);
  assert.deepEqual(stillValid.map((c) => c.name), []);
});
