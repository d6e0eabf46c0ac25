// bodycases.mjs - sends the schema-breaking bodies of mutate.mjs to one operation and checks
// that each is refused with a documented 4xx in the error shape (never a 2xx, a 5xx or a
// dropped connection), naming the broken field on a 400.
import { checkResponse, derefAt } from './check.mjs';
import { request } from './http.mjs';
import { randomBytes } from 'node:crypto';

import { flatten, generateCases, synthesize } from './mutate.mjs';
import { exampleValue, fillPath, parameters } from './request.mjs';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The JSON request body of an operation: { schema, tokens, media } or null. */
export function jsonRequestBody(doc, opInfo) {
  if (!opInfo.op.requestBody) return null;
  const rb = derefAt(doc, opInfo.op.requestBody, [...opInfo.pointer, 'requestBody']);
  const key = Object.keys(rb.node.content ?? {}).find((k) => /^application\/json\b/i.test(k));
  if (!key || rb.node.content[key].schema === undefined) return null;
  return { media: rb.node.content[key], schema: rb.node.content[key].schema, tokens: [...rb.tokens, 'content', key, 'schema'] };
}

/** A valid body: the documented example, else the first named example, else synthesized. */
export function baseBody(doc, body) {
  if (body.media.example !== undefined) return body.media.example;
  const named = Object.values(body.media.examples ?? {})[0];
  if (named?.value !== undefined) return named.value;
  return synthesize(doc, body.schema);
}

/** Paths of the e-mail fields of a body (unique values keep cases clear of 409 conflicts). */
function emailPaths(doc, schema, value, path = [], out = []) {
  const s = flatten(doc, schema);
  if (s.format === 'email' && typeof value === 'string') out.push(path);
  if (isObject(value)) {
    for (const [k, sub] of Object.entries(s.properties ?? {})) if (k in value) emailPaths(doc, sub, value[k], [...path, k], out);
  }
  return out;
}

function freshen(body, base, paths) {
  if (!paths.length || !isObject(body)) return body;
  const copy = JSON.parse(JSON.stringify(body));
  for (const p of paths) {
    const parent = p.slice(0, -1).reduce((o, k) => (isObject(o) ? o[k] : undefined), copy);
    const baseValue = p.reduce((o, k) => o?.[k], base);
    if (isObject(parent) && parent[p[p.length - 1]] === baseValue) {
      parent[p[p.length - 1]] = `contract-${randomBytes(6).toString('hex')}@example.test`;
    }
  }
  return copy;
}

function mentionsParam(json, param) {
  const last = param.split('.').filter((s) => !/^\d+$/.test(s)).pop() ?? param;
  const names = [json?.error?.param, ...(json?.error?.errors ?? []).map((e) => e?.param)].filter((p) => typeof p === 'string');
  return names.some((p) => p === param || p.endsWith(last) || p.includes(last));
}

/**
 * Runs every case of one operation against base. ctx: { doc, validators, token? }.
 * record(name, problems) receives each case. Returns { generated, valid, ran, failed }.
 */
export async function runBodyCases(ctx, opInfo, base, record, { headers = {} } = {}) {
  const body = jsonRequestBody(ctx.doc, opInfo);
  const stats = { generated: 0, dropped: 0, ran: 0, failed: 0 };
  if (!body) return stats;
  let valid;
  try {
    valid = baseBody(ctx.doc, body);
  } catch (e) {
    stats.failed++;
    record(`${opInfo.id}: a valid base body`, [`${e.message}: give the request body an example`]);
    return stats;
  }
  const baseErr = ctx.validators.check(body.tokens, valid);
  if (baseErr) {
    stats.failed++;
    record(`${opInfo.id}: the documented example body is valid`, [baseErr]);
    return stats;
  }
  const pathParams = {};
  for (const { param } of parameters(ctx.doc, opInfo)) if (param.in === 'path') pathParams[param.name] = exampleValue(param);
  const path = fillPath(opInfo.template, pathParams);
  const security = opInfo.op.security ?? ctx.doc.security ?? [];
  const isPublic = security.length === 0 || security.some((r) => isObject(r) && Object.keys(r).length === 0);
  const h = { ...headers };
  if (!isPublic && !h.Authorization && ctx.token) h.Authorization = `Bearer ${await ctx.token('admin')}`;

  const cases = generateCases(ctx.doc, body.schema, valid);
  const emails = emailPaths(ctx.doc, body.schema, valid);
  stats.generated = cases.length;
  for (const c of cases) {
    // Only bodies the schema really rejects are cases; the rest are not faults.
    if (ctx.validators.check(body.tokens, c.body) === null) {
      stats.dropped++;
      continue;
    }
    stats.ran++;
    const res = await request({ base, method: opInfo.method, path, headers: h, body: freshen(c.body, valid, emails) });
    const problems = [];
    if (res.error) problems.push(`dropped connection: ${res.error}`);
    else {
      if (res.status < 400) problems.push(`accepted an invalid body with ${res.status}`);
      // Refusals that never looked at the body prove nothing about its validation.
      if (res.status === 429) problems.push('rate-limited (429) before validation: raise the limit for the suite (lib/harness.mjs)');
      if (res.status === 409) problems.push('409: the invalid body got past validation to the business rules');
      if (res.status === 401 || res.status === 403) problems.push(`refused (${res.status}) before validation: the case needs credentials (lib/auth.mjs)`);
      if (res.status >= 500) problems.push(`server error ${res.status} for a client mistake`);
      problems.push(...checkResponse(ctx, { where: opInfo.id, responses: opInfo.op.responses, baseTokens: opInfo.pointer }, res));
      if (res.status === 400 && c.param && !mentionsParam(res.json, c.param)) {
        problems.push(`the 400 does not name the field ${c.param} (error.param or error.errors[].param): ${res.text.slice(0, 200)}`);
      }
    }
    if (problems.length) stats.failed++;
    record(`${opInfo.method} ${path} ${c.name} -> 4xx`, problems);
  }
  return stats;
}
