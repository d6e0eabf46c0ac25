// selftest.mjs - proves the negative machinery on a fake operation with a request body, served
// by small in-process servers: a strict one (validates like the API must) and a lenient one
// (accepts what it should refuse, crashes on some input). The strict one must pass every case,
// the lenient one must be caught. Used while the document has no request bodies, and always.
import http from 'node:http';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

import { SchemaValidators, operations } from './spec.mjs';

/** A one-operation document reusing the real Error schemas. */
export function fakeDocument(realDoc) {
  const s = realDoc.components.schemas;
  const std = {
    'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'negative self-test', version: '0' },
    paths: {
      '/things': {
        post: {
          operationId: 'createThing',
          security: [],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/NewThing' }, example: { name: 'lamp', amount: 1999, currency: 'eur' } } },
          },
          responses: {
            201: { description: 'Created.', headers: std, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string' } } } } } },
            400: { description: 'Invalid.', headers: std, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
          },
        },
      },
    },
    components: {
      headers: { 'X-Request-Id': realDoc.components.headers['X-Request-Id'] },
      schemas: {
        Error: s.Error,
        ErrorDetail: s.ErrorDetail,
        FieldError: s.FieldError,
        NewThing: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'amount', 'currency'],
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            amount: { type: 'integer', minimum: 1, maximum: 1000000 },
            currency: { type: 'string', enum: ['eur', 'usd'] },
            email: { type: 'string', format: 'email', maxLength: 254 },
            reference: { type: 'string', pattern: '^[A-Z]{3}-[0-9]{4}$', maxLength: 8, examples: ['ABC-1234'] },
            tags: { type: 'array', maxItems: 3, items: { type: 'string', maxLength: 20 } },
            metadata: { type: 'object', additionalProperties: false, properties: { note: { type: 'string', maxLength: 50 } } },
          },
        },
      },
    },
  };
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'X-Request-Id': 'selftest-1', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function paramOf(e) {
  const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const extra = e.params?.missingProperty ?? e.params?.additionalProperty;
  return [base, extra].filter(Boolean).join('.') || 'body';
}

/** Starts a fake API on a free loopback port: mode 'strict' or 'lenient'. */
export function startFake(doc, mode) {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: 'fake' }, 'fake', undefined, false);
  const validate = ajv.compile({ $ref: 'fake#/components/schemas/NewThing' });
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return send(res, 400, { error: { type: 'invalid_request_error', code: 'malformed_json', message: 'bad JSON' } });
      }
      if (mode === 'lenient') {
        if (body === null || typeof body !== 'object') {
          res.socket.destroy(); // "crashes": a dropped connection
          return undefined;
        }
        if (typeof body.amount === 'string') return send(res, 500, { error: { type: 'api_error', code: 'internal_error', message: 'oops' } });
        return send(res, 201, { id: 'thing_1' });
      }
      if (!validate(body)) {
        const errors = validate.errors.map((e) => ({ param: paramOf(e), code: 'invalid', message: e.message ?? 'invalid' }));
        return send(res, 400, { error: { type: 'invalid_request_error', code: 'invalid', message: errors[0].message, param: errors[0].param, errors } });
      }
      return send(res, 201, { id: 'thing_1' });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ base: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) }));
  });
}

export function fakeContext(realDoc) {
  const doc = fakeDocument(realDoc);
  return { doc, validators: new SchemaValidators(doc), ops: operations(doc) };
}

export { Ajv2020 };
