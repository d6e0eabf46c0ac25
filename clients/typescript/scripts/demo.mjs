// demo.mjs - assembles the folder herald-api serves at /demo (HERALD_DEMO_DIR): the page of
// demo/, the bundle (scripts/build.mjs) and demo.json with the demo user's credentials.
//   node scripts/demo.mjs --out DIR --email E --password P [--send-example TEXT]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const out = arg('out');
if (!out || !arg('email') || !arg('password')) {
  console.error('usage: node scripts/demo.mjs --out DIR --email E --password P [--send-example TEXT]');
  process.exit(2);
}
mkdirSync(out, { recursive: true, mode: 0o700 });
execFileSync(process.execPath, [path.join(root, 'scripts/build.mjs'), '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
for (const f of readdirSync(path.join(root, 'demo'))) copyFileSync(path.join(root, 'demo', f), path.join(out, f));
writeFileSync(path.join(out, 'demo.json'), JSON.stringify({ email: arg('email'), password: arg('password'), send_example: arg('send-example') ?? '' }, null, 2), { mode: 0o600 });
console.log(`demo: ${out} (index.html, demo.js, demo.css, herald-inbox.js, demo.json)`);
