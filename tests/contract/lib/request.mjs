// request.mjs - turns a scenario call into an HTTP request, and checks that a request meant to
// succeed stays inside the contract (documented parameters and body).
import { derefAt } from './check.mjs';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parameters of an operation with the pointer tokens of each (operation-level wins). */
export function parameters(doc, opInfo) {
  const byKey = new Map();
  const add = (list, base) =>
    (list ?? []).forEach((raw, i) => {
      const { node, tokens } = derefAt(doc, raw, [...base, 'parameters', i]);
      const key = `${node.in}:${node.in === 'header' ? node.name.toLowerCase() : node.name}`;
      byKey.set(key, { param: node, tokens });
    });
  add(opInfo.pathItem.parameters, ['paths', opInfo.template]);
  add(opInfo.op.parameters, opInfo.pointer);
  return [...byKey.values()];
}

/** An example value for a parameter: its example, first examples entry, enum/const, default. */
export function exampleValue(param) {
  if (param.example !== undefined) return param.example;
  const first = Object.values(param.examples ?? {})[0];
  if (first?.value !== undefined) return first.value;
  const s = param.schema ?? {};
  if (s.examples?.length) return s.examples[0];
  if (s.const !== undefined) return s.const;
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined) return s.default;
  return undefined;
}

/** Fills a path template: "/docs/{file}" + { file: "x.js" } -> "/docs/x.js". */
export function fillPath(template, params) {
  return template.replace(/\{([^}]+)\}/g, (_, name) => {
    if (params[name] === undefined) throw new Error(`no value for path parameter {${name}}`);
    return encodeURIComponent(String(params[name]));
  });
}

/**
 * The request of a scenario call.
 *   call.request = { params, query, headers, body, rawBody, contentType, chunked, auth, path }
 * Path parameters not given take their documented example. auth is a token string or a role
 * name that ctx.token() resolves. Returns { method, path, query, headers, body, rawBody,
 * contentType, chunked, pathParams }.
 */
export async function buildRequest(ctx, opInfo, req = {}) {
  const pathParams = {};
  for (const { param } of parameters(ctx.doc, opInfo)) {
    if (param.in === 'path') pathParams[param.name] = exampleValue(param);
  }
  Object.assign(pathParams, req.params ?? {});
  const headers = { ...(req.headers ?? {}) };
  if (req.auth) headers.Authorization = `Bearer ${await ctx.token(req.auth)}`;
  return {
    method: opInfo.method,
    path: req.path ?? fillPath(opInfo.template, pathParams),
    query: req.query,
    headers,
    body: req.body,
    rawBody: req.rawBody,
    contentType: req.contentType,
    chunked: req.chunked,
    readUntil: req.readUntil,
    pathParams,
  };
}

function coerce(schema, value) {
  const t = Array.isArray(schema?.type) ? schema.type : [schema?.type];
  if ((t.includes('integer') || t.includes('number')) && /^-?\d+(\.\d+)?$/.test(String(value))) return Number(value);
  if (t.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/** Problems that put a request outside the contract (empty when it is inside). */
export function requestProblems(ctx, opInfo, built) {
  const problems = [];
  const params = parameters(ctx.doc, opInfo);
  const lowerHeaders = Object.fromEntries(Object.entries(built.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const given = {
    path: built.pathParams ?? {},
    query: built.query ?? {},
    header: lowerHeaders,
  };
  for (const { param, tokens } of params) {
    const bag = given[param.in] ?? {};
    const key = param.in === 'header' ? param.name.toLowerCase() : param.name;
    const value = bag[key];
    if (value === undefined) {
      if (param.required) problems.push(`required ${param.in} parameter ${param.name} is missing`);
      continue;
    }
    if (param.schema !== undefined) {
      const err = ctx.validators.check([...tokens, 'schema'], coerce(param.schema, value));
      if (err) problems.push(`${param.in} parameter ${param.name}=${JSON.stringify(value)}: ${err}`);
    }
  }
  for (const name of Object.keys(given.query)) {
    if (!params.some(({ param }) => param.in === 'query' && param.name === name)) {
      problems.push(`query parameter ${name} is not documented`);
    }
  }
  const rb = opInfo.op.requestBody ? derefAt(ctx.doc, opInfo.op.requestBody, [...opInfo.pointer, 'requestBody']) : null;
  const sent = built.body !== undefined || built.rawBody !== undefined;
  if (!rb && sent) problems.push('a body is sent but the operation documents none');
  if (rb) {
    if (!sent && rb.node.required) problems.push('the documented request body is missing');
    if (built.body !== undefined) {
      const media = rb.node.content?.['application/json'];
      if (!media) problems.push('a JSON body is sent but application/json is not documented');
      else if (media.schema !== undefined) {
        const err = ctx.validators.check([...rb.tokens, 'content', 'application/json', 'schema'], built.body);
        if (err) problems.push(`the body does not match the request schema: ${err}`);
      }
    }
  }
  const security = opInfo.op.security ?? ctx.doc.security ?? [];
  const isPublic = security.length === 0 || security.some((r) => isObject(r) && Object.keys(r).length === 0);
  if (!isPublic && !lowerHeaders.authorization) problems.push('the operation needs credentials and none are sent');
  return problems;
}
