// harness.mjs - what every suite shares: arguments, the document and its validators, the
// database preparation (migrate, create-admin) and the herald-api servers it runs.
import { existsSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

import { tokenFor } from './auth.mjs';
import { request } from './http.mjs';
import { buildRequest } from './request.mjs';
import { HeraldServer, baseEnv, generatedAdmin, requireStackEnv, runCli, tempDir } from './server.mjs';
import { SchemaValidators, loadSpec, operations } from './spec.mjs';

export const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** --bin PATH --spec PATH [--scenarios DIR] [--out DIR] [--only SUBSTRING] */
export function parseArgs(argv = process.argv.slice(2)) {
  const args = { bin: null, spec: path.join(HERE, '../../openapi/openapi.yaml'), scenarios: path.join(HERE, 'scenarios'), out: null, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const key = a.replace(/^--/, '');
    if (a.startsWith('--') && key in args) {
      if (argv[i + 1] === undefined) throw new Error(`${a} needs a value`);
      args[key] = argv[++i];
    } else if (a === '-h' || a === '--help') {
      console.log('usage: node <suite>.mjs --bin build/bin/herald-api --spec openapi/openapi.yaml [--scenarios DIR] [--out DIR] [--only TEXT]');
      process.exit(0);
    } else {
      throw new Error(`unknown argument ${a}`);
    }
  }
  if (!args.bin) throw new Error('--bin <path to herald-api> is required');
  args.bin = path.resolve(args.bin);
  args.spec = path.resolve(args.spec);
  args.scenarios = path.resolve(args.scenarios);
  if (!existsSync(args.bin) || !statSync(args.bin).isFile()) throw new Error(`--bin ${args.bin}: no such file (build first)`);
  if (!existsSync(args.spec)) throw new Error(`--spec ${args.spec}: no such file`);
  return args;
}

/** The folder holding redoc.standalone.js in our npm tree. */
export function redocBundleDir() {
  try {
    return path.dirname(createRequire(import.meta.url).resolve('redoc'));
  } catch {
    return null;
  }
}

/**
 * Every server's per-route-group limits are raised (one shared Redis counts the whole run), so
 * generated cases reach validation; a scenario that wants a 429 sets its own lower values.
 */
export const RAISED_ROUTE_LIMITS = Object.freeze(Object.fromEntries(
  ['READ_USER', 'READ_IP', 'WRITE_USER', 'WRITE_IP', 'ADMIN_USER', 'ADMIN_IP', 'WEBHOOKS_IP',
    'SERVICE', 'PASSWORD'].map((g) => [`HERALD_RATE_LIMIT_${g}`, '1000000'])));

/** Named server configurations; scenario files may add their own (export const servers). */
export function builtinServers() {
  return {
    // The normal instance, against the stack; Redoc from our npm tree via HERALD_DOCS_DIR.
    // Rate limits are raised so generated cases reach validation (a scenario that wants a
    // 429 defines its own server with a low limit).
    main: () => ({ HERALD_DOCS_DIR: redocBundleDir() ?? '', HERALD_AUTH_RATE_LIMIT: '1000000' }),
    // Redis unreachable (a closed loopback port) and no docs installed: /readyz 503,
    // /docs 404. The shared stack is never stopped.
    degraded: (h) => ({
      HERALD_REDIS_URL: 'redis://127.0.0.1:1/0',
      HERALD_REDIS_TIMEOUT_MS: '300',
      HERALD_DOCS_DIR: h.scratchDir('herald-empty-docs-'),
    }),
  };
}

export class Harness {
  constructor(args, { report }) {
    this.args = args;
    this.report = report;
    this.doc = loadSpec(args.spec);
    this.validators = new SchemaValidators(this.doc);
    this.ops = operations(this.doc);
    this.byId = new Map(this.ops.map((o) => [o.id, o]));
    this.serverDefs = builtinServers();
    this.servers = new Map();
    this.jwtSecret = randomBytes(32).toString('hex');
    this.scratch = [];
    this.logDir = args.out ?? this.scratchDir('herald-contract-');
    this.tokens = new Map();
    this.admin = null;
  }

  /** Checks the stack's environment, migrates, creates the generated admin. Records checks. */
  async prepareDatabase() {
    requireStackEnv();
    for (const [name, url] of [['PostgreSQL', process.env.HERALD_DATABASE_URL], ['Redis', process.env.HERALD_REDIS_URL]]) {
      const problem = await tcpProbe(url);
      this.report.record(`the stack's ${name} accepts connections`, problem ? [`${problem} (is the stack running?)`] : []);
    }
    const env = baseEnv({ HERALD_JWT_SECRET: this.jwtSecret });
    const m = await runCli(this.args.bin, ['migrate'], env);
    this.report.record('herald-api migrate exits 0', m.code === 0 ? [] : [`exit ${m.code ?? m.signal}: ${m.stderr.slice(-800)}`]);
    this.admin = generatedAdmin();
    const a = await runCli(this.args.bin, ['create-admin'], {
      ...env,
      HERALD_ADMIN_EMAIL: this.admin.email,
      HERALD_ADMIN_PASSWORD: this.admin.password,
    });
    this.report.record('herald-api create-admin (generated admin) exits 0',
      a.code === 0 ? [] : [`exit ${a.code ?? a.signal}: ${a.stderr.slice(-800)}`]);
    return m.code === 0 && a.code === 0;
  }

  /** A temporary folder removed by teardown (the logs one only when every check passed). */
  scratchDir(prefix) {
    const dir = tempDir(prefix);
    this.scratch.push(dir);
    return dir;
  }

  /** The running server of that name, started on first use. */
  async server(name = 'main') {
    let s = this.servers.get(name);
    if (s) {
      if (!s.alive()) throw new Error(`herald-api (${name}) is no longer running: ${JSON.stringify(s.unexpectedExit)}\n${s.logTail()}`);
      return s;
    }
    const def = this.serverDefs[name];
    if (!def) throw new Error(`no server configuration named ${name}`);
    s = new HeraldServer(this.args.bin, {
      name,
      logDir: this.logDir,
      env: {
        HERALD_JWT_SECRET: this.jwtSecret,
        ...RAISED_ROUTE_LIMITS,
        ...(typeof def === 'function' ? def(this) : def),
      },
    });
    this.servers.set(name, s);
    await s.start();
    return s;
  }

  operation(id) {
    const op = this.byId.get(id);
    if (!op) throw new Error(`operationId ${id} is not in the document`);
    return op;
  }

  /** Sends a call by operationId (a scenario's setup steps use this): the raw response. */
  async call(operationId, req = {}, serverName = 'main') {
    const s = await this.server(serverName);
    const built = await buildRequest(this, this.operation(operationId), req);
    return request({ base: s.base, ...built });
  }

  /** A bearer token for a role ("admin") or a literal one ({ token }). See auth.mjs. */
  async token(who) {
    if (typeof who === 'object' && who !== null && typeof who.token === 'string') return who.token;
    if (!this.tokens.has(who)) this.tokens.set(who, await tokenFor(this, who));
    return this.tokens.get(who);
  }

  /** Stops every server; records that each exits 0 on SIGTERM and never died before. */
  async teardown() {
    for (const [name, s] of this.servers) {
      const unexpected = s.unexpectedExit;
      const e = await s.stop();
      const problems = [];
      if (unexpected) problems.push(`it died during the run: ${JSON.stringify(unexpected)}`);
      else if (!e || e.code !== 0) problems.push(`exit ${JSON.stringify(e)}`);
      if (problems.length) problems.push(`log (${s.logFile}):\n${s.logTail()}`);
      this.report.record(`herald-api serve (${name}) ran throughout and exits 0 on SIGTERM`, problems);
    }
    for (const dir of this.scratch) {
      if (dir === this.logDir && this.report.failed > 0) continue; // keep the logs of a failed run
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** null when host:port of a URL accepts a TCP connection, else why not. Key=value DSNs: skipped. */
export function tcpProbe(url, timeoutMs = 2000) {
  let host;
  let port;
  try {
    const u = new URL(url);
    host = u.hostname || '127.0.0.1';
    port = Number(u.port || (u.protocol.startsWith('redis') ? 6379 : 5432));
  } catch {
    return Promise.resolve(null);
  }
  if (!/^(127\.|localhost$|\[?::1\]?$)/.test(host)) return Promise.resolve(null); // only loopback is probed
  return new Promise((resolve) => {
    const sock = net.connect({ host: host.replace(/^\[|\]$/g, ''), port, timeout: timeoutMs });
    sock.on('connect', () => {
      sock.destroy();
      resolve(null);
    });
    sock.on('timeout', () => {
      sock.destroy();
      resolve(`${host}:${port}: no answer within ${timeoutMs} ms`);
    });
    sock.on('error', (e) => resolve(`${host}:${port}: ${e.code ?? e.message}`));
  });
}

/** Fails early (with the "N passed, N failed" line) when npm ci was not run. */
export function requireNodeModules() {
  const require = createRequire(import.meta.url);
  const missing = ['ajv', 'ajv-formats', 'yaml'].filter((m) => {
    try {
      require.resolve(m);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) {
    console.error(`missing npm packages (${missing.join(', ')}): run "npm ci" in ${HERE}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

export { request };
