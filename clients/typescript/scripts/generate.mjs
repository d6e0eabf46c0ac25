// generate.mjs - writes src/generated/openapi.ts, the types of openapi/openapi.yaml, with
// openapi-typescript (pinned in package-lock.json). With --check it writes nothing and exits 1
// when the committed file differs from what the contract generates now (ctest client_types).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const spec = path.resolve(root, '../../openapi/openapi.yaml');
const out = path.join(root, 'src/generated/openapi.ts');
const header =
  '// Generated from openapi/openapi.yaml by openapi-typescript (`make client`). Do not edit:\n' +
  '// ctest client_types fails when this file differs from what the contract generates.\n' +
  '/* eslint-disable */\n';

const ast = await openapiTS(pathToFileURL(spec), { alphabetize: false, exportType: true });
const text = header + astToString(ast);

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(out, 'utf8');
  } catch {
    /* missing: differs */
  }
  if (current !== text) {
    const a = current.split('\n');
    const b = text.split('\n');
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    console.error(`client types: ${path.relative(process.cwd(), out)} is out of date with openapi/openapi.yaml ` +
      `(first difference at line ${i + 1}); run \`make client\` and commit the result`);
    console.error(`  committed: ${JSON.stringify(a[i] ?? '<end of file>')}`);
    console.error(`  generated: ${JSON.stringify(b[i] ?? '<end of file>')}`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`client types: ${path.relative(process.cwd(), out)} matches the contract (${text.split("\n").length} lines)`);
  console.log('1 passed, 0 failed');
} else {
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`client types: wrote ${path.relative(process.cwd(), out)} (${text.split('\n').length} lines)`);
}
