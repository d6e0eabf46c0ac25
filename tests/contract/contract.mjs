#!/usr/bin/env node
// contract.mjs - every response of a live herald-api against openapi.yaml.
//
//   node contract.mjs --bin build/bin/herald-api --spec openapi/openapi.yaml [--only TEXT] [--out DIR]
//
// Needs the stack's environment (HERALD_DATABASE_URL, HERALD_REDIS_URL). It runs `herald-api
// migrate` and `create-admin` (a generated admin), starts `herald-api serve` on free loopback
// ports, runs every call of scenarios/*.mjs and checks each response: status documented for
// the operation, required headers present and valid, Content-Type documented, body valid
// against the schema documented for that status. It also checks that the served document is
// openapi.yaml, that every documented path answers 405 + Allow (listing exactly the documented
// methods) to the others, and that unknown routes are JSON 404s. Every operation must be
// exercised with a success and with at least one documented error, or the run fails.
// The last line is "N passed, N failed".
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { checkErrorShape, checkResponse } from './lib/check.mjs';
import { Harness, parseArgs, request, requireNodeModules } from './lib/harness.mjs';
import { Report } from './lib/report.mjs';
import { buildRequest, exampleValue, fillPath, parameters, requestProblems } from './lib/request.mjs';
import { documentedMethods, firstDifference, jsonEqual } from './lib/spec.mjs';

requireNodeModules();
const report = new Report('contract');

function normalizeProblems(out) {
  if (out === undefined || out === null || out === true) return [];
  if (out === false) return ['custom check failed'];
  if (typeof out === 'string') return [out];
  if (Array.isArray(out)) return out.filter(Boolean).map(String);
  return [String(out)];
}

async function loadScenarios(h, dir) {
  const calls = [];
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort();
  } catch (e) {
    report.record(`scenario folder ${dir} is readable`, [e.message]);
    return calls;
  }
  for (const file of files) {
    try {
      const mod = await import(pathToFileURL(path.join(dir, file)).href);
      Object.assign(h.serverDefs, mod.servers ?? {});
      const list = typeof mod.default === 'function' ? await mod.default(h) : mod.default;
      if (!Array.isArray(list)) throw new Error('the default export is not an array (or a function returning one)');
      list.forEach((call, i) => calls.push({ ...call, file, index: i }));
    } catch (e) {
      report.record(`scenario file ${file} loads`, [e.stack ?? e.message]);
    }
  }
  return calls;
}

function shapeProblems(h, call) {
  const problems = [];
  if (!Number.isInteger(call.expect)) problems.push('expect (the status) must be an integer');
  if (call.operationId) {
    if (!h.byId.has(call.operationId)) problems.push(`operationId ${call.operationId} is not in the document`);
  } else if (!call.method || !call.path || !call.response) {
    problems.push('a call needs operationId, or method + path + response (a components.responses name)');
  } else if (!h.doc.components?.responses?.[call.response]) {
    problems.push(`components.responses.${call.response} does not exist`);
  }
  if (call.server && !h.serverDefs[call.server]) problems.push(`no server configuration named ${call.server}`);
  return problems;
}

async function runCall(h, call, coverage) {
  const target = call.operationId ?? `${call.method} ${call.path}`;
  const label = `${target} -> ${call.expect}${call.name ? `: ${call.name}` : ''} (${call.file})`;
  const problems = shapeProblems(h, call);
  if (problems.length) return report.record(label, problems);
  try {
    const s = await h.server(call.server ?? 'main');
    let res;
    if (call.operationId) {
      const opInfo = h.operation(call.operationId);
      const built = await buildRequest(h, opInfo, call.request);
      if (call.expect >= 200 && call.expect < 300 && !call.allowOutsideContract) {
        for (const p of requestProblems(h, opInfo, built)) problems.push(`the scenario's request is outside the contract: ${p}`);
      }
      res = await request({ base: s.base, ...built });
      if (!res.error && res.status !== call.expect) problems.push(`expected ${call.expect}, got ${res.status}: ${res.text.slice(0, 300)}`);
      problems.push(...checkResponse(h, { where: opInfo.id, responses: opInfo.op.responses, baseTokens: opInfo.pointer }, res));
    } else {
      const req = call.request ?? {};
      const headers = { ...(req.headers ?? {}) };
      if (req.auth) headers.Authorization = `Bearer ${await h.token(req.auth)}`;
      res = await request({ base: s.base, method: call.method, path: call.path, ...req, headers });
      if (!res.error && res.status !== call.expect) problems.push(`expected ${call.expect}, got ${res.status}: ${res.text.slice(0, 300)}`);
      const responses = { [String(call.expect)]: { $ref: `#/components/responses/${call.response}` } };
      problems.push(...checkResponse(h, { where: target, responses, baseTokens: [] }, res));
    }
    if (!res.error && call.check) problems.push(...normalizeProblems(await call.check(res, h)));
    const ok = report.record(label, problems);
    if (ok && call.operationId) {
      const c = coverage.get(call.operationId);
      if (res.status >= 200 && res.status < 300) c.happy.add(res.status);
      else if (res.status >= 400) c.errors.add(res.status);
    }
    return ok;
  } catch (e) {
    return report.record(label, [e.stack ?? e.message]);
  }
}

/** Every documented path, with each undocumented method: 405 and Allow = documented methods. */
async function methodProbes(h) {
  const s = await h.server('main');
  for (const template of Object.keys(h.doc.paths ?? {})) {
    const documented = documentedMethods(h.doc, template);
    const anyOp = h.ops.find((o) => o.template === template);
    const values = {};
    for (const { param } of parameters(h.doc, anyOp)) if (param.in === 'path') values[param.name] = exampleValue(param);
    let concrete;
    try {
      concrete = fillPath(template, values);
    } catch (e) {
      report.record(`${template}: a concrete path for the method probes`, [`${e.message} (give the parameter an example)`]);
      continue;
    }
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !documented.includes(m))) {
      const res = await request({ base: s.base, method, path: concrete });
      const responses = { 405: { $ref: '#/components/responses/MethodNotAllowed' } };
      const problems = checkResponse(h, { where: `${method} ${template}`, responses, baseTokens: [] }, res);
      if (!res.error && res.status === 405) {
        const allow = String(res.headers.allow ?? '').split(',').map((m) => m.trim()).filter(Boolean).sort();
        if (!jsonEqual(allow, [...documented].sort())) {
          problems.push(`Allow is "${res.headers.allow}" but the document has ${documented.join(', ')} for ${template}` +
            ' (a route the document does not describe, or a documented one the server lacks)');
        }
      }
      report.record(`${method} ${concrete} -> 405 with Allow: ${documented.join(', ')} (method probe)`, problems);
    }
  }
}

async function main() {
  let args;
  try {
    args = parseArgs();
  } catch (e) {
    console.error(`contract: ${e.message}`);
    console.log('0 passed, 1 failed');
    return 1;
  }
  const h = new Harness(args, { report });
  report.info(`contract: ${h.ops.length} operations in ${args.spec}`);
  report.info(`contract: server logs in ${h.logDir}${args.out ? '' : ' (removed unless a check fails)'}`);

  report.record('every schema of the document compiles (JSON Schema 2020-12, Ajv strict)', h.validators.compileAll());
  const ids = h.ops.map((o) => o.op.operationId);
  report.record('every operation has a unique operationId', [
    ...h.ops.filter((o) => !o.op.operationId).map((o) => `${o.method} ${o.template} has no operationId`),
    ...ids.filter((id, i) => id && ids.indexOf(id) !== i).map((id) => `${id} is used twice`),
  ]);

  try {
    if (!(await h.prepareDatabase())) {
      await h.teardown();
      return report.finish();
    }
    const main = await h.server('main');
    report.info(`contract: herald-api serve (main) on ${main.base}`);

    const served = await request({ base: main.base, path: '/api/v1/openapi.json' });
    report.record('GET /api/v1/openapi.json is exactly openapi.yaml (rebuild herald-api after editing the YAML)',
      served.error ? [served.error]
        : served.json === undefined ? [`not JSON: ${served.text.slice(0, 200)}`]
          : jsonEqual(served.json, h.doc) ? []
            : [`first difference at ${firstDifference(served.json, h.doc)} (the build converts with PyYAML, YAML 1.1: quote values like yes/no/on/off and dates)`]);

    const calls = await loadScenarios(h, args.scenarios);
    const coverage = new Map(h.ops.map((o) => [o.id, { happy: new Set(), errors: new Set() }]));
    const selected = args.only ? calls.filter((c) => `${c.operationId ?? c.path} ${c.name ?? ''} ${c.file}`.includes(args.only)) : calls;
    report.info(`contract: ${selected.length} scenario calls from ${args.scenarios}`);
    for (const call of selected) await runCall(h, call, coverage);

    if (!args.only) {
      await methodProbes(h);
      const res = await request({ base: main.base, path: '/api/v1/__contract_no_such_route__' });
      const problems = checkResponse(h, { where: 'unknown route', responses: { 404: { $ref: '#/components/responses/NotFound' } }, baseTokens: [] }, res);
      problems.push(...(res.status === 404 ? [] : [`expected 404, got ${res.status}`]), ...checkErrorShape(h, res).filter((p) => !problems.includes(p)));
      report.record('GET /api/v1/__contract_no_such_route__ -> 404 in the error shape', problems);

      // Coverage: a success and at least one documented error for every operation.
      let covered = 0;
      report.info('');
      for (const o of h.ops) {
        const c = coverage.get(o.id);
        const missing = [];
        if (c.happy.size === 0) missing.push('no successful (2xx) call');
        if (c.errors.size === 0) missing.push('no documented error (4xx/5xx) exercised');
        if (missing.length === 0) covered++;
        const seen = [...c.happy, ...c.errors].sort().join(', ') || 'nothing';
        report.record(`coverage ${o.id} (${o.method} ${o.template}): ${seen}`, missing);
      }
      const pct = h.ops.length ? Math.floor((covered * 100) / h.ops.length) : 100;
      report.info(`contract coverage: ${covered}/${h.ops.length} operations (${pct}%)`);
    }
  } catch (e) {
    report.record('contract run', [e.stack ?? e.message]);
  } finally {
    await h.teardown();
  }
  return report.finish();
}

process.exitCode = await main();
