// The inbox demo page: /demo and /demo/{file}, served from HERALD_DEMO_DIR (a folder this file
// fills) by the "demo" server, and off (404) on the main server, which has no HERALD_DEMO_DIR.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const dir = mkdtempSync(path.join(tmpdir(), 'herald-contract-demo-'));
writeFileSync(path.join(dir, 'index.html'), '<!DOCTYPE html><title>demo</title><herald-inbox></herald-inbox>\n');
writeFileSync(path.join(dir, 'demo.js'), 'export const demo = 1;\n');
writeFileSync(path.join(dir, 'demo.json'), '{"email":"demo@example.test"}\n');
writeFileSync(path.join(dir, 'notes.txt'), 'not an allowed extension\n');

export const servers = {
  demo: () => ({ HERALD_DEMO_DIR: dir, HERALD_AUTH_RATE_LIMIT: '1000000' }),
};

const csp = (res) => (/script-src 'self'(;|$)/.test(res.headers['content-security-policy'] ?? '') ? null : `CSP ${res.headers['content-security-policy']}`);

export default [
  {
    name: 'the demo page, index.html of HERALD_DEMO_DIR',
    operationId: 'getDemoPage',
    server: 'demo',
    expect: 200,
    check: (res) => [
      res.headers['content-type'] === 'text/html; charset=utf-8' ? null : `Content-Type ${res.headers['content-type']}`,
      res.text.includes('<herald-inbox>') ? null : 'not the file',
      csp(res),
    ],
  },
  { name: 'off without HERALD_DEMO_DIR: 404', operationId: 'getDemoPage', expect: 404 },
  {
    name: 'a script of the demo folder',
    operationId: 'getDemoFile',
    server: 'demo',
    request: { params: { file: 'demo.js' } },
    expect: 200,
    check: (res) => [res.headers['content-type'] === 'text/javascript; charset=utf-8' ? null : `Content-Type ${res.headers['content-type']}`, res.text === 'export const demo = 1;\n' ? null : 'not the file', csp(res)],
  },
  {
    name: 'a JSON file of the demo folder',
    operationId: 'getDemoFile',
    server: 'demo',
    request: { params: { file: 'demo.json' } },
    expect: 200,
    check: (res) => (res.json?.email === 'demo@example.test' ? [] : 'not the file'),
  },
  ...['notes.txt', 'missing.js', '.hidden.js'].map((file) => ({
    name: `${file}: not served (404)`,
    operationId: 'getDemoFile',
    server: 'demo',
    request: { params: { file } },
    expect: 404,
  })),
  { name: 'off without HERALD_DEMO_DIR: 404', operationId: 'getDemoFile', request: { params: { file: 'demo.js' } }, expect: 404 },
];
