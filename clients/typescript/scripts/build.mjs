// build.mjs - bundles the client with esbuild (pinned in package-lock.json):
//   dist/herald-client.js  the client alone (ES module, for Node and bundlers)
//   dist/herald-inbox.js   the client + <herald-inbox>, minified: the one file a page loads
// and checks the inbox bundle against its size budget (25 KB gzipped). --out DIR writes there.
// Prints one line per check and ends with "N passed, N failed" (ctest client_bundle).
import { build } from 'esbuild';
import { readFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--out');
const out = i > 0 ? path.resolve(process.argv[i + 1]) : path.join(root, 'dist');
const BUDGET = 25 * 1024;
mkdirSync(out, { recursive: true });

const common = { bundle: true, format: 'esm', target: ['es2022'], platform: 'neutral', legalComments: 'none', logLevel: 'warning' };
await build({ ...common, entryPoints: [path.join(root, 'src/index.ts')], outfile: path.join(out, 'herald-client.js') });
await build({ ...common, entryPoints: [path.join(root, 'src/inbox-entry.ts')], outfile: path.join(out, 'herald-inbox.js'), minify: true });

const raw = readFileSync(path.join(out, 'herald-inbox.js'));
const gz = gzipSync(raw, { level: 9 }).length;
const ok = gz <= BUDGET;
console.log(`${ok ? 'ok' : 'FAIL'}: ${path.join(out, 'herald-inbox.js')} is ${raw.length} bytes, ${gz} gzipped (budget ${BUDGET})`);
console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
process.exit(ok ? 0 : 1);
