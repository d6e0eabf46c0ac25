// stack.mjs - what the client tests run against: a real herald-api (migrated, with a generated
// admin) on the throw-away stack of `make test` (HERALD_DATABASE_URL, HERALD_REDIS_URL), started
// with tests/contract/lib/server.mjs, behind a Front (front.mjs). The stream is the API's own
// when openapi/openapi.yaml documents it, else the FakeStream; HERALD_CLIENT_STREAM=real|fake
// forces one.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HeraldServer, baseEnv, generatedAdmin, requireStackEnv, runCli, tempDir } from '../../../../tests/contract/lib/server.mjs';
import { Front } from './front.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../../..');
export const BIN = process.env.HERALD_API_BIN ?? path.join(ROOT, 'build/bin/herald-api');
export const DIST = process.env.HERALD_CLIENT_DIST ?? path.resolve(here, '../../dist');

/** 'real' when the contract has the stream endpoints (or HERALD_CLIENT_STREAM says so), else 'fake'. */
export function streamMode() {
  const forced = process.env.HERALD_CLIENT_STREAM;
  if (forced === 'real' || forced === 'fake') return forced;
  const spec = readFileSync(path.join(ROOT, 'openapi/openapi.yaml'), 'utf8');
  return /^ {2}\/api\/v1\/notifications\/stream-tickets:/m.test(spec) ? 'real' : 'fake';
}

const RAISED = Object.fromEntries(
  ['READ_USER', 'READ_IP', 'WRITE_USER', 'WRITE_IP', 'ADMIN_USER', 'ADMIN_IP', 'SERVICE', 'PASSWORD'].map((g) => [`HERALD_RATE_LIMIT_${g}`, '1000000']),
);

/** Starts herald-api and its Front. env: extra variables for the API (e.g. HERALD_DEMO_DIR);
 *  staticDir: see Front. */
export async function startStack({ env = {}, staticDir = null } = {}) {
  requireStackEnv();
  const logDir = tempDir('herald-client-');
  const jwt = randomBytes(32).toString('hex');
  const common = baseEnv({ HERALD_JWT_SECRET: jwt });
  const m = await runCli(BIN, ['migrate'], common);
  if (m.code !== 0) throw new Error(`herald-api migrate: ${m.stderr.slice(-800)}`);
  const admin = generatedAdmin();
  const a = await runCli(BIN, ['create-admin'], { ...common, HERALD_ADMIN_EMAIL: admin.email, HERALD_ADMIN_PASSWORD: admin.password });
  if (a.code !== 0) throw new Error(`herald-api create-admin: ${a.stderr.slice(-800)}`);
  const api = new HeraldServer(BIN, { name: 'client', logDir, env: { HERALD_JWT_SECRET: jwt, HERALD_AUTH_RATE_LIMIT: '1000000', ...RAISED, ...env } });
  await api.start();
  const mode = streamMode();
  const front = await new Front(api.base, { fakeStream: mode === 'fake', staticDir }).start();
  return {
    api,
    front,
    base: front.base,
    admin,
    mode,
    logDir,
    async stop() {
      await front.stop();
      return api.stop();
    },
  };
}

/** A new account on the API at base: { email, password }. */
export async function newUser(base, prefix = 'client') {
  const email = `${prefix}-${randomBytes(5).toString('hex')}@example.test`;
  const password = `Cl-${randomBytes(15).toString('base64url')}`;
  const r = await fetch(`${base}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, name: 'Client Test' }),
  });
  if (r.status !== 202) throw new Error(`register ${email}: ${r.status} ${await r.text()}`);
  return { email, password };
}

/** Resolves when check() returns truthy (polled every 20 ms), else rejects after ms. */
export async function waitFor(check, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
