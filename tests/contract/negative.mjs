#!/usr/bin/env node
// negative.mjs - requests that break the contract must be refused properly.
//
//   node negative.mjs --bin build/bin/herald-api --spec openapi/openapi.yaml [--out DIR]
//
// 1. For every operation with a JSON request body: bodies generated from its schema, one fault
//    each (missing required, wrong types, out of range, unexpected properties, 100k-character
//    strings, wrong top-level type; see lib/mutate.mjs), sent to a live herald-api. Each must
//    get a documented 4xx in the error shape: never a 2xx, a 5xx or a dropped connection.
// 2. The same machinery on a fake operation against two in-process fake servers: a strict one
//    must pass every case and a lenient one must be caught (so an empty part 1 is never a
//    silent pass: the counts are printed).
// 3. Transport-level faults on the real paths: malformed JSON, duplicate keys, invalid UTF-8,
//    trailing garbage, JSON nested too deep, wrong or missing Content-Type, bodies over the size
//    limit (with Content-Length and chunked), huge headers.
// The last line is "N passed, N failed".
import { runBodyCases, jsonRequestBody } from './lib/bodycases.mjs';
import { checkErrorShape, checkResponse } from './lib/check.mjs';
import { Harness, parseArgs, request, requireNodeModules } from './lib/harness.mjs';
import { Report } from './lib/report.mjs';
import { exampleValue, fillPath, parameters } from './lib/request.mjs';
import { fakeContext, startFake } from './lib/selftest.mjs';

requireNodeModules();
const report = new Report('negative');
const MAX_BODY = Number(process.env.HERALD_MAX_BODY_BYTES ?? 1048576);

function concretePath(h, opInfo) {
  const values = {};
  for (const { param } of parameters(h.doc, opInfo)) if (param.in === 'path') values[param.name] = exampleValue(param);
  return fillPath(opInfo.template, values);
}

/** Part 1: generated bodies against herald-api. */
async function bodyCases(h) {
  const withBodies = h.ops.filter((o) => jsonRequestBody(h.doc, o));
  const main = await h.server('main');
  const totals = { generated: 0, dropped: 0, ran: 0, failed: 0 };
  for (const opInfo of withBodies) {
    const stats = await runBodyCases(h, opInfo, main.base, (name, problems) => report.record(name, problems));
    for (const k of Object.keys(totals)) totals[k] += stats[k];
  }
  report.info(`negative: ${withBodies.length} of ${h.ops.length} operations take a JSON request body; ` +
    `${totals.ran} generated cases ran against herald-api (${totals.dropped} mutations were still valid and not sent)`);
  return totals;
}

/** Part 2: the machinery itself, on a fake operation. */
async function selfTest(h) {
  const ctx = fakeContext(h.doc);
  const opInfo = ctx.ops[0];
  const strict = await startFake(ctx.doc, 'strict');
  const lenient = await startFake(ctx.doc, 'lenient');
  try {
    const strictFailures = [];
    const s = await runBodyCases(ctx, opInfo, strict.base, (name, problems) => {
      if (problems.length) strictFailures.push(`${name}: ${problems.join('; ')}`);
    });
    report.record(`self-test: ${s.ran} generated cases against a strict fake API all get a documented 400`,
      s.ran < 20 ? [`only ${s.ran} cases were generated for the fake schema`, ...strictFailures] : strictFailures);

    const caught = { accepted: 0, serverError: 0, dropped: 0 };
    const l = await runBodyCases(ctx, opInfo, lenient.base, (name, problems) => {
      const text = problems.join(' ');
      if (/accepted an invalid body/.test(text)) caught.accepted++;
      if (/server error 5\d\d/.test(text)) caught.serverError++;
      if (/dropped connection/.test(text)) caught.dropped++;
    });
    report.record(`self-test: a lenient fake API is caught (${l.failed}/${l.ran} cases fail: ` +
      `${caught.accepted} accepted, ${caught.serverError} 5xx, ${caught.dropped} dropped connections)`, [
      l.failed === l.ran && l.ran > 0 ? null : `${l.ran - l.failed} cases passed against a server that validates nothing`,
      caught.accepted > 0 ? null : 'no accepted invalid body was reported',
      caught.serverError > 0 ? null : 'no 5xx was reported',
      caught.dropped > 0 ? null : 'no dropped connection was reported',
    ].filter(Boolean));
    report.info(`negative: self-test ran ${s.ran + l.ran} generated cases against the fake APIs`);
  } finally {
    await strict.close();
    await lenient.close();
  }
}

/** Part 3: malformed transport on every operation's path, plus unrouted paths. */
async function transportCases(h) {
  const main = await h.server('main');
  const big = Buffer.alloc(MAX_BODY + 1, 0x20);
  big[0] = 0x5b; // "[" ... spaces ... "]": valid JSON, only too large
  big[big.length - 1] = 0x5d;
  const cases = [
    { name: 'malformed JSON', rawBody: '{"a": ', contentType: 'application/json', status: 400, code: 'malformed_json' },
    { name: 'duplicate keys', rawBody: '{"a": 1, "a": 2}', contentType: 'application/json', status: 400, code: 'malformed_json' },
    { name: 'invalid UTF-8', rawBody: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), contentType: 'application/json', status: 400, code: 'malformed_json' },
    { name: 'trailing garbage', rawBody: '{} {}', contentType: 'application/json', status: 400, code: 'malformed_json' },
    { name: 'nested 1000 deep', rawBody: `${'['.repeat(1000)}${']'.repeat(1000)}`, contentType: 'application/json', status: 400, code: 'json_too_deep' },
    { name: 'text/plain body', rawBody: 'hello', contentType: 'text/plain', status: 415, code: 'unsupported_media_type' },
    { name: 'form body', rawBody: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded', status: 415, code: 'unsupported_media_type' },
    { name: 'body without Content-Type', rawBody: '{}', status: 415, code: 'unsupported_media_type' },
    { name: 'application/jsonx lookalike', rawBody: '{}', contentType: 'application/jsonx', status: 415, code: 'unsupported_media_type' },
    { name: `body of ${MAX_BODY + 1} bytes`, rawBody: big, contentType: 'application/json', status: 413, code: 'body_too_large' },
    { name: `chunked body of ${MAX_BODY + 1} bytes`, rawBody: big, contentType: 'application/json', chunked: true, status: 413, code: 'body_too_large' },
  ];
  for (const opInfo of h.ops) {
    const path = concretePath(h, opInfo);
    // An operation documented to take another media type (the form-encoded SMS webhook)
    // parses its own body: only the size limit applies to it.
    const types = Object.keys(opInfo.op.requestBody?.content ?? {});
    const ownsMedia = types.length > 0 && !types.includes('application/json');
    for (const c of ownsMedia ? cases.filter((k) => k.status === 413) : cases) {
      // A body is a fault for operations without one; for those with one, only the malformed kinds.
      const res = await request({ base: main.base, method: opInfo.method, path, rawBody: c.rawBody, contentType: c.contentType, chunked: c.chunked });
      const problems = checkResponse(h, { where: opInfo.id, responses: opInfo.op.responses, baseTokens: opInfo.pointer }, res);
      if (!res.error) {
        if (res.status !== c.status) problems.push(`expected ${c.status}, got ${res.status}`);
        if (res.json?.error?.code !== c.code) problems.push(`expected code ${c.code}, got ${res.json?.error?.code}`);
      }
      report.record(`${opInfo.method} ${path} with ${c.name} -> ${c.status} ${c.code}`, problems);
    }
  }
  // Paths no operation owns: the pipeline still answers in the error shape.
  for (const [method, path] of [['POST', '/api/v1/__contract_nowhere__'], ['PUT', '/healthz']]) {
    for (const c of cases.slice(0, 2).concat(cases.slice(5, 6))) {
      const res = await request({ base: main.base, method, path, rawBody: c.rawBody, contentType: c.contentType });
      report.record(`${method} ${path} with ${c.name} -> 4xx in the error shape`, checkErrorShape(h, res));
    }
  }
  // A header too large for the server's per-connection memory: refused, not dropped or crashed.
  const res = await request({ base: main.base, path: '/healthz', headers: { 'X-Contract-Padding': 'x'.repeat(100000) } });
  report.record('GET /healthz with a 100,000-character header -> 4xx (answered by libmicrohttpd itself; not the error shape)',
    res.error ? [`dropped connection: ${res.error}`] : res.status >= 400 && res.status < 500 ? [] : [`status ${res.status}`]);
  const after = await request({ base: main.base, path: '/healthz' });
  report.record('the server still answers after the transport faults', after.status === 200 ? [] : [`GET /healthz: ${after.error ?? after.status}`]);
}

async function main() {
  let args;
  try {
    args = parseArgs();
  } catch (e) {
    console.error(`negative: ${e.message}`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const h = new Harness(args, { report });
  report.info(`negative: server logs in ${h.logDir}${args.out ? '' : ' (removed unless a check fails)'}`);
  try {
    if (await h.prepareDatabase()) {
      await bodyCases(h);
      await selfTest(h);
      await transportCases(h);
    }
  } catch (e) {
    report.record('negative run', [e.stack ?? e.message]);
  } finally {
    await h.teardown();
  }
  return report.finish();
}

process.exitCode = await main();
