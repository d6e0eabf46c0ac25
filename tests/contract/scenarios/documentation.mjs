// The OpenAPI document and the reference page: /api/v1/openapi.json, /docs, /docs/{file}.
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { redocBundleDir } from '../lib/harness.mjs';

export default [
  {
    name: 'the document, cacheable',
    operationId: 'getOpenApiDocument',
    expect: 200,
    check: (res) => [
      res.headers['content-type'] === 'application/json' ? null : `Content-Type ${res.headers['content-type']}`,
      res.headers['cache-control'] === 'public, max-age=300' ? null : `Cache-Control ${res.headers['cache-control']}`,
      res.json?.info?.title === 'Herald API' ? null : `info.title is ${res.json?.info?.title}`,
    ],
  },
  {
    name: 'the document at the root, the same as under /api/v1',
    operationId: 'getOpenApiDocumentRoot',
    expect: 200,
    check: (res) => [
      res.headers['content-type'] === 'application/json' ? null : `Content-Type ${res.headers['content-type']}`,
      res.json?.info?.title === 'Herald API' ? null : `info.title is ${res.json?.info?.title}`,
      res.json?.paths?.['/openapi.yaml'] ? null : 'does not describe /openapi.yaml',
    ],
  },
  {
    name: 'the document as written, in YAML',
    operationId: 'getOpenApiDocumentYaml',
    expect: 200,
    check: (res) => [
      res.headers['content-type'] === 'application/yaml; charset=utf-8' ? null : `Content-Type ${res.headers['content-type']}`,
      res.headers['cache-control'] === 'public, max-age=300' ? null : `Cache-Control ${res.headers['cache-control']}`,
      /^openapi: 3\.1/m.test(res.text ?? '') ? null : 'no "openapi: 3.1" line',
    ],
  },
  ...['getOpenApiDocumentRoot', 'getOpenApiDocumentYaml'].map((operationId) => ({
    name: `${operationId}: an oversized body is a 413`,
    operationId,
    request: { rawBody: `"${'x'.repeat(1024 * 1024)}"`, contentType: 'application/json' },
    expect: 413,
    check: (res) => (res.json?.error?.code === 'body_too_large' ? [] : `code ${res.json?.error?.code}`),
  })),
  {
    name: 'an oversized body is a 413',
    operationId: 'getOpenApiDocument',
    request: { rawBody: `"${'x'.repeat(1024 * 1024)}"`, contentType: 'application/json' },
    expect: 413,
    check: (res) => (res.json?.error?.code === 'body_too_large' ? [] : `code ${res.json?.error?.code}`),
  },
  {
    name: 'the reference page, self-contained',
    operationId: 'getDocsPage',
    expect: 200,
    check: (res) => {
      const csp = res.headers['content-security-policy'] ?? '';
      return [
        /^text\/html; charset=utf-8$/i.test(res.headers['content-type']) ? null : `Content-Type ${res.headers['content-type']}`,
        res.text.includes('<script src="/docs/redoc.standalone.js"></script>') ? null : 'does not load /docs/redoc.standalone.js',
        res.text.includes('spec-url="/api/v1/openapi.json"') ? null : 'does not point Redoc at /api/v1/openapi.json',
        /https?:\/\//.test(res.text.replace(/<noscript>[\s\S]*?<\/noscript>/, '')) ? 'loads something from another origin' : null,
        /script-src 'self'(;|$)/.test(csp) ? null : `CSP script-src is not 'self' only: ${csp}`,
        /frame-ancestors 'none'/.test(csp) ? null : `CSP lacks frame-ancestors 'none': ${csp}`,
        res.headers['x-frame-options'] === 'DENY' ? null : `X-Frame-Options ${res.headers['x-frame-options']}`,
      ];
    },
  },
  {
    name: 'not installed: JSON 404 (second instance, empty HERALD_DOCS_DIR)',
    operationId: 'getDocsPage',
    server: 'degraded',
    expect: 404,
  },
  {
    name: 'the Redoc bundle, byte for byte',
    operationId: 'getDocsAsset',
    request: { params: { file: 'redoc.standalone.js' } },
    expect: 200,
    check: (res) => {
      const file = readFileSync(path.join(redocBundleDir(), 'redoc.standalone.js'));
      return [
        /^application\/javascript/.test(res.headers['content-type']) ? null : `Content-Type ${res.headers['content-type']}`,
        res.buffer.equals(file) ? null : `body (${res.buffer.length} bytes) differs from the file (${file.length} bytes)`,
        res.headers['cache-control'] === 'public, max-age=3600' ? null : `Cache-Control ${res.headers['cache-control']}`,
      ];
    },
  },
  {
    name: "the bundle's license notices",
    operationId: 'getDocsAsset',
    request: { params: { file: 'redoc.standalone.js.LICENSE.txt' } },
    expect: 200,
    check: (res) => (/^text\/plain/.test(res.headers['content-type']) ? [] : `Content-Type ${res.headers['content-type']}`),
  },
  {
    name: 'a name outside the allow-list is a 404',
    operationId: 'getDocsAsset',
    request: { params: { file: 'package.json' } },
    expect: 404,
  },
  {
    name: 'path traversal is a 404',
    operationId: 'getDocsAsset',
    request: { path: '/docs/..%2F..%2F..%2Fetc%2Fpasswd' },
    expect: 404,
  },
  {
    name: 'an encoded traversal to the allow-listed name is a 404',
    operationId: 'getDocsAsset',
    request: { path: '/docs/..%2Fbundles%2Fredoc.standalone.js' },
    expect: 404,
  },
  {
    name: 'an allow-listed name that is not installed is a 404',
    operationId: 'getDocsAsset',
    server: 'degraded',
    request: { params: { file: 'redoc.standalone.js' } },
    expect: 404,
  },
];
