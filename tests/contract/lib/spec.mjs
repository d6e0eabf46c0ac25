// spec.mjs - the OpenAPI document: loading, operations, path matching, reference resolution
// and JSON Schema (2020-12) validators compiled with Ajv.
import { readFileSync } from 'node:fs';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const DOC_ID = 'herald:openapi';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses the YAML document (YAML 1.2; the build converts it with PyYAML, see sameDocument). */
export function loadSpec(file) {
  const text = readFileSync(file, 'utf8');
  const doc = YAML.parse(text, { maxAliasCount: 100, uniqueKeys: true });
  if (!isObject(doc) || typeof doc.openapi !== 'string') {
    throw new Error(`${file}: not an OpenAPI document`);
  }
  return doc;
}

export function escapePointer(token) {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointerOf(tokens) {
  return tokens.map(escapePointer).join('/').replace(/^/, '/');
}

/** The node at a local reference ("#/components/..."), or throws. */
export function resolvePointer(doc, ref) {
  if (!ref.startsWith('#/')) throw new Error(`only local references are supported: ${ref}`);
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) throw new Error(`unresolvable reference ${ref}`);
    node = node[token];
    if (node === undefined) throw new Error(`unresolvable reference ${ref}`);
  }
  return node;
}

/** Follows $ref chains of non-schema objects (responses, headers, parameters, bodies). */
export function deref(doc, node) {
  const seen = new Set();
  while (isObject(node) && typeof node.$ref === 'string') {
    if (seen.has(node.$ref)) throw new Error(`reference cycle at ${node.$ref}`);
    seen.add(node.$ref);
    // OpenAPI 3.1: a Reference Object's summary/description override the target's.
    const { $ref, summary, description } = node;
    const target = resolvePointer(doc, $ref);
    node = { ...target, ...(description ? { description } : {}), ...(summary ? { summary } : {}) };
  }
  return node;
}

/** Every operation: { id, method (upper case), template, op, pathItem, pointer }. */
export function operations(doc) {
  const out = [];
  for (const [template, rawItem] of Object.entries(doc.paths ?? {})) {
    const pathItem = deref(doc, rawItem);
    for (const method of METHODS) {
      const op = pathItem[method];
      if (!isObject(op)) continue;
      out.push({
        id: op.operationId ?? `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        op,
        pathItem,
        pointer: ['paths', template, method],
      });
    }
  }
  return out;
}

function templateRegex(template) {
  const names = [];
  const source = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (m) {
        names.push(m[1]);
        return '([^/]+)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { re: new RegExp(`^${source}/?$`), names };
}

/** The documented path template matching a concrete path (literal templates win), or null. */
export function matchPath(doc, path) {
  const templates = Object.keys(doc.paths ?? {}).sort(
    (a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0),
  );
  for (const template of templates) {
    const { re, names } = templateRegex(template);
    const m = re.exec(path);
    if (m) {
      const params = {};
      names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1]);
      });
      return { template, params };
    }
  }
  return null;
}

/** The methods documented for a path template, upper case, in document order. */
export function documentedMethods(doc, template) {
  const item = deref(doc, doc.paths[template]);
  return METHODS.filter((m) => isObject(item[m])).map((m) => m.toUpperCase());
}

/** Parameters of an operation (path-level ones overridden by operation-level ones), resolved. */
export function parametersOf(doc, opInfo) {
  const byKey = new Map();
  for (const raw of [...(opInfo.pathItem.parameters ?? []), ...(opInfo.op.parameters ?? [])]) {
    const p = deref(doc, raw);
    byKey.set(`${p.in}:${p.in === 'header' ? p.name.toLowerCase() : p.name}`, p);
  }
  return [...byKey.values()];
}

/** The OpenAPI response object for a status (exact, then 4XX-style range, then default). */
export function responseFor(doc, op, status) {
  const responses = op.responses ?? {};
  const key = [String(status), `${String(status)[0]}XX`, `${String(status)[0]}xx`, 'default'].find(
    (k) => responses[k] !== undefined,
  );
  return key === undefined ? null : { key, response: deref(doc, responses[key]) };
}

/** Media type essence: "Text/Plain; charset=x" -> "text/plain". */
export function essence(contentType) {
  return String(contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** The documented media type (key) that a response Content-Type matches, or null. */
export function matchMediaType(content, contentType) {
  const actual = essence(contentType);
  const keys = Object.keys(content ?? {});
  const exact = keys.find((k) => essence(k) === actual);
  if (exact) return exact;
  const [type] = actual.split('/');
  return keys.find((k) => essence(k) === `${type}/*`) ?? keys.find((k) => essence(k) === '*/*') ?? null;
}

export function isJsonMediaType(mediaType) {
  const e = essence(mediaType);
  return e === 'application/json' || e.endsWith('+json');
}

/** Collects every "x-..." key used inside schemas so Ajv's strict mode accepts them. */
function extensionKeywords(node, out = new Set()) {
  if (Array.isArray(node)) node.forEach((n) => extensionKeywords(n, out));
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (k.startsWith('x-')) out.add(k);
      extensionKeywords(v, out);
    }
  }
  return out;
}

const INT32 = { type: 'number', validate: (n) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 };
const INT64 = { type: 'number', validate: (n) => Number.isInteger(n) };
const ANY_NUMBER = { type: 'number', validate: () => true };
const ANY_STRING = { type: 'string', validate: () => true };

/**
 * Validators for the schemas of a document. The whole document is registered with Ajv under
 * one id, so "#/components/schemas/X" references resolve exactly as in the document.
 */
export class SchemaValidators {
  constructor(doc) {
    this.doc = doc;
    this.ajv = new Ajv2020({
      strict: true,
      strictRequired: false, // allOf fragments narrow properties they do not list ...
      strictTypes: false, // ... and carry no "type" of their own
      allErrors: true,
      validateFormats: true,
      allowUnionTypes: true,
    });
    addFormats(this.ajv);
    this.ajv.addFormat('int32', INT32);
    this.ajv.addFormat('int64', INT64);
    this.ajv.addFormat('float', ANY_NUMBER);
    this.ajv.addFormat('double', ANY_NUMBER);
    this.ajv.addFormat('password', ANY_STRING);
    this.ajv.addFormat('byte', { type: 'string', validate: (s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) });
    this.ajv.addFormat('binary', ANY_STRING);
    // OpenAPI 3.1's vocabulary on top of JSON Schema 2020-12, plus the document's extensions.
    this.ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs', ...extensionKeywords(doc)]);
    // The document itself is not a schema. Ajv gets a copy that keeps every schema at its
    // original pointer (so "#/components/schemas/X" resolves as in the document) and nothing
    // else; its two containers are declared as keywords that validate nothing.
    this.ajv.addVocabulary(['paths', 'components']);
    this.ajv.addSchema({ $id: DOC_ID, ...pickSchemaTree(doc) }, DOC_ID, undefined, false);
    this.cache = new Map();
  }

  /** A compiled validator for the schema at a JSON pointer token list into the document. */
  at(tokens) {
    const key = pointerOf(tokens);
    let v = this.cache.get(key);
    if (!v) {
      const ref = `${DOC_ID}#${key.split('/').map((t) => encodeURIComponent(t).replace(/%7E/gi, '~')).join('/')}`;
      v = this.ajv.compile({ $ref: ref });
      this.cache.set(key, v);
    }
    return v;
  }

  /** Validates data against the schema at tokens: null when valid, else a readable message. */
  check(tokens, data) {
    const v = this.at(tokens);
    if (v(data)) return null;
    return formatErrors(v.errors);
  }

  /** Compiles every schema of the document (catches schemas that would only fail when used). */
  compileAll() {
    const problems = [];
    walkSchemas(this.doc, [], (tokens) => {
      try {
        this.at(tokens);
      } catch (e) {
        problems.push(`${pointerOf(tokens)}: ${e.message}`);
      }
    });
    return problems;
  }
}

/** Ajv errors as one line, naming the offending property or value. */
export function formatErrors(errors) {
  return (errors ?? [])
    .slice(0, 8)
    .map((e) => {
      const where = e.instancePath || '/';
      const p = e.params ?? {};
      const detail =
        p.additionalProperty ?? p.unevaluatedProperty ?? p.missingProperty ??
        (p.allowedValues ? p.allowedValues.join('|') : undefined) ??
        (p.allowedValue !== undefined ? JSON.stringify(p.allowedValue) : undefined);
      return `${where} ${e.message}${detail !== undefined ? ` (${detail})` : ''}`;
    })
    .join('; ');
}

/**
 * A copy of the document keeping, at their original pointers, only what holds schemas; the
 * containers get no schema keywords of their own, so Ajv (strict) never compiles them.
 */
function pickSchemaTree(doc) {
  const tree = {};
  walkSchemas(doc, [], (tokens, schema) => {
    let node = tree;
    tokens.slice(0, -1).forEach((t) => {
      node[t] ??= {};
      node = node[t];
    });
    node[tokens[tokens.length - 1]] = schema;
  });
  return tree;
}

/** Calls fn(tokens, schema) for every Schema Object position in an OpenAPI 3.1 document. */
export function walkSchemas(doc, _unused, fn) {
  const media = (content, base) => {
    for (const [mt, m] of Object.entries(content ?? {})) {
      if (isObject(m) && m.schema !== undefined) fn([...base, 'content', mt, 'schema'], m.schema);
    }
  };
  const param = (p, base) => {
    if (!isObject(p) || p.$ref) return;
    if (p.schema !== undefined) fn([...base, 'schema'], p.schema);
    media(p.content, base);
  };
  const headers = (hs, base) => {
    for (const [name, h] of Object.entries(hs ?? {})) param(h, [...base, 'headers', name]);
  };
  const response = (r, base) => {
    if (!isObject(r) || r.$ref) return;
    headers(r.headers, base);
    media(r.content, base);
  };
  const operation = (op, base) => {
    (op.parameters ?? []).forEach((p, i) => param(p, [...base, 'parameters', i]));
    if (isObject(op.requestBody) && !op.requestBody.$ref) media(op.requestBody.content, [...base, 'requestBody']);
    for (const [code, r] of Object.entries(op.responses ?? {})) response(r, [...base, 'responses', code]);
  };
  for (const [template, item] of Object.entries(doc.paths ?? {})) {
    if (!isObject(item) || item.$ref) continue;
    (item.parameters ?? []).forEach((p, i) => param(p, ['paths', template, 'parameters', i]));
    for (const m of METHODS) if (isObject(item[m])) operation(item[m], ['paths', template, m]);
  }
  const c = doc.components ?? {};
  for (const [name, s] of Object.entries(c.schemas ?? {})) fn(['components', 'schemas', name], s);
  for (const [name, p] of Object.entries(c.parameters ?? {})) param(p, ['components', 'parameters', name]);
  for (const [name, h] of Object.entries(c.headers ?? {})) param(h, ['components', 'headers', name]);
  for (const [name, r] of Object.entries(c.responses ?? {})) response(r, ['components', 'responses', name]);
  for (const [name, b] of Object.entries(c.requestBodies ?? {})) {
    if (isObject(b) && !b.$ref) media(b.content, ['components', 'requestBodies', name]);
  }
}

/** Deep equality of two JSON values (object key order ignored). */
export function jsonEqual(a, b) {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The first JSON pointer where two JSON values differ, or null. */
export function firstDifference(a, b, at = '') {
  if (jsonEqual(a, b)) return null;
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${at}/${escapePointer(k)}`);
      if (d) return d;
    }
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${at}/${i}`);
      if (d) return d;
    }
  }
  return at || '/';
}
