// server.mjs - runs herald-api as child processes: migrate, create-admin, and `serve` on a free
// loopback port (HERALD_HTTP_PORT=0; the port is read from the "listening on" log line).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const children = new Set();
let cleanupInstalled = false;

function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = () => {
    for (const c of children) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      killAll();
      process.exit(130);
    });
  }
}

/** What every herald-api child gets on top of the caller's environment. */
export function baseEnv(extra = {}) {
  return {
    ...process.env,
    HERALD_HTTP_BIND: '127.0.0.1',
    HERALD_HTTP_PORT: '0',
    HERALD_HTTP_THREADS: '4',
    HERALD_LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Throws a readable error when the stack's environment is missing. */
export function requireStackEnv() {
  const missing = ['HERALD_DATABASE_URL', 'HERALD_REDIS_URL'].filter((k) => !process.env[k]);
  if (missing.length) {
    throw new Error(
      `${missing.join(' and ')} not set: start the stack (scripts/stack.sh start --dir DIR --ephemeral; ` +
        '. DIR/stack.env) or run the suite through `make test` / ctest from scripts/test.sh',
    );
  }
}

/** Runs `bin ...args` to completion: { code, signal, stdout, stderr }. */
export function runCli(bin, args, env, timeoutMs = 60000) {
  installCleanup();
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code: -1, signal: null, stdout, stderr: `${stderr}${e.message}` });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
}

/** A random admin for the auth scenarios. */
export function generatedAdmin() {
  return {
    email: `contract-admin-${randomBytes(4).toString('hex')}@example.test`,
    password: `Ct-${randomBytes(18).toString('base64url')}`,
  };
}

export function tempDir(prefix) {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/**
 * A running `herald-api serve`. start() resolves once it listens; stop() sends SIGTERM and
 * resolves to { code, signal } (SIGKILL after 15 s).
 */
export class HeraldServer {
  constructor(bin, { name = 'main', env = {}, logDir } = {}) {
    this.bin = bin;
    this.name = name;
    this.env = baseEnv(env);
    this.logFile = path.join(logDir ?? tempDir('herald-contract-'), `herald-api-${name}.log`);
    this.tail = [];
    this.exit = null;
    this.unexpectedExit = null;
  }

  start(timeoutMs = 20000) {
    installCleanup();
    const log = createWriteStream(this.logFile);
    this.child = spawn(this.bin, ['serve'], { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(this.child);
    const remember = (chunk) => {
      log.write(chunk);
      for (const line of String(chunk).split('\n')) {
        if (line) this.tail.push(line);
      }
      if (this.tail.length > 200) this.tail.splice(0, this.tail.length - 200);
    };
    this.child.stdout.on('data', remember);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        children.delete(this.child);
        this.exit = { code, signal };
        if (!this.stopping) this.unexpectedExit = this.exit;
        log.end();
        resolve(this.exit);
      });
    });
    return new Promise((resolve, reject) => {
      let buffered = '';
      const timer = setTimeout(() => {
        reject(new Error(`herald-api (${this.name}) did not listen within ${timeoutMs} ms\n${this.logTail()}`));
      }, timeoutMs);
      const onData = (chunk) => {
        remember(chunk);
        buffered += chunk;
        const m = /listening on http:\/\/([0-9.]+):(\d+)/.exec(buffered);
        if (m) {
          clearTimeout(timer);
          this.child.stderr.off('data', onData);
          this.child.stderr.on('data', remember);
          this.port = Number(m[2]);
          this.base = `http://127.0.0.1:${this.port}`;
          resolve(this);
        }
      };
      this.child.stderr.on('data', onData);
      this.child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${this.bin}: ${e.message}`));
      });
      this.exited.then((e) => {
        clearTimeout(timer);
        if (!this.base) reject(new Error(`herald-api (${this.name}) exited (${JSON.stringify(e)}) before listening\n${this.logTail()}`));
      });
    });
  }

  alive() {
    return this.child && this.exit === null;
  }

  logTail(n = 25) {
    return this.tail.slice(-n).map((l) => `    | ${l}`).join('\n');
  }

  async stop(timeoutMs = 15000) {
    if (!this.child || this.exit) return this.exit;
    this.stopping = true;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }
}
