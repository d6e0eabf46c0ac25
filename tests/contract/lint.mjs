#!/usr/bin/env node
// Lints the OpenAPI document with the pinned Redocly CLI and the rules of openapi/redocly.yaml.
// Usage: node lint.mjs <openapi.yaml> [--config <redocly.yaml>]
// Fails on any problem, warnings included. No network: telemetry and update checks are off.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const spec = path.resolve(args.find((a, i) => !a.startsWith('--') && args[i - 1] !== '--config') ??
  path.join(here, '../../openapi/openapi.yaml'));
const ci = args.indexOf('--config');
const config = path.resolve(ci >= 0 ? args[ci + 1] : path.join(path.dirname(spec), 'redocly.yaml'));

let cli;
try {
  cli = createRequire(import.meta.url).resolve('@redocly/cli/bin/cli.js');
} catch {
  console.error(`lint: @redocly/cli is not installed; run "npm ci" in ${here}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
for (const f of [spec, config]) {
  if (!existsSync(f)) {
    console.error(`lint: ${f} does not exist`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const env = {
  ...process.env,
  REDOCLY_TELEMETRY: 'off',
  REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
  NO_UPDATE_NOTIFIER: '1',
  NODE_NO_WARNINGS: '1',
};
const r = spawnSync(process.execPath,
  [cli, 'lint', spec, '--config', config, '--format', 'stylish', '--max-problems', '1000'],
  { env, encoding: 'utf8', cwd: here });
const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
process.stdout.write(out.replace(/^[ \t]*[╔║╚].*\n/gmu, ''));
// Redocly exits non-zero on errors; warnings only show in its summary, so count them too.
const warnings = /(\d+) warnings?/.exec(out);
const ok = r.status === 0 && !(warnings && Number(warnings[1]) > 0) && !r.error;
if (r.error) console.error(`lint: cannot run redocly: ${r.error.message}`);
console.log(`lint: ${path.relative(process.cwd(), spec) || spec} ${ok ? 'is valid' : 'has problems'}`);
console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
process.exit(ok ? 0 : 1);
