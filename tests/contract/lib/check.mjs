// check.mjs - is a live response what the document says? Status documented for the operation,
// required headers present and valid, Content-Type documented, JSON body valid against the
// schema documented for that status and media type; no body where none is documented.
import { deref, isJsonMediaType, matchMediaType, resolvePointer } from './spec.mjs';

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Follows a $ref chain and returns the node with the pointer tokens where it really lives. */
export function derefAt(doc, node, tokens) {
  let at = tokens;
  let cur = node;
  const seen = new Set();
  while (isObject(cur) && typeof cur.$ref === 'string') {
    if (seen.has(cur.$ref)) throw new Error(`reference cycle at ${cur.$ref}`);
    seen.add(cur.$ref);
    at = cur.$ref
      .slice(2)
      .split('/')
      .map((t) => decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~'));
    const overrides = { description: cur.description, summary: cur.summary };
    cur = resolvePointer(doc, cur.$ref);
    if (overrides.description || overrides.summary) {
      cur = { ...cur, ...Object.fromEntries(Object.entries(overrides).filter(([, v]) => v)) };
    }
  }
  return { node: cur, tokens: at };
}

/** The response object documented for status: { key, node, tokens } or null. */
export function documentedResponse(doc, responses, baseTokens, status) {
  const s = String(status);
  const key = [s, `${s[0]}XX`, `${s[0]}xx`, 'default'].find((k) => responses?.[k] !== undefined);
  if (key === undefined) return null;
  const { node, tokens } = derefAt(doc, responses[key], [...baseTokens, 'responses', key]);
  return { key, node, tokens };
}

/** A header value as the type its schema expects (headers are strings on the wire). */
function coerceHeader(schema, value) {
  const t = Array.isArray(schema?.type) ? schema.type : [schema?.type];
  if ((t.includes('integer') || t.includes('number')) && /^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  if (t.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/**
 * Checks res (from http.request) against the responses map of an operation.
 *   where      a label for messages ("getHealth")
 *   responses  the operation's responses object (may hold $refs)
 *   baseTokens pointer tokens of the operation (["paths", "/healthz", "get"]) or [] for
 *              synthetic operations whose responses are all $refs
 * Returns a list of problems (empty: the response honours the contract).
 */
export function checkResponse({ doc, validators }, { where, responses, baseTokens }, res) {
  const problems = [];
  if (res.error) return [`no response: ${res.error}`];
  const documented = documentedResponse(doc, responses, baseTokens, res.status);
  if (!documented) {
    return [
      `status ${res.status} is not documented for ${where} (documented: ${Object.keys(responses ?? {}).join(', ')}); ` +
        `body: ${res.text.slice(0, 300)}`,
    ];
  }
  const { node: response, tokens } = documented;

  for (const [name, raw] of Object.entries(response.headers ?? {})) {
    if (name.toLowerCase() === 'content-type') continue; // OpenAPI ignores it; checked below
    const { node: header, tokens: htokens } = derefAt(doc, raw, [...tokens, 'headers', name]);
    const value = res.headers[name.toLowerCase()];
    if (value === undefined) {
      if (header.required) problems.push(`required header ${name} is missing`);
      continue;
    }
    if (header.schema !== undefined) {
      const err = validators.check([...htokens, 'schema'], coerceHeader(header.schema, Array.isArray(value) ? value.join(', ') : value));
      if (err) problems.push(`header ${name}: ${JSON.stringify(value)} ${err}`);
    }
  }

  const content = response.content ?? {};
  const mediaTypes = Object.keys(content);
  const hasBody = res.buffer.length > 0;
  if (mediaTypes.length === 0) {
    if (hasBody) problems.push(`a body came back but none is documented for ${res.status}: ${res.text.slice(0, 200)}`);
    return problems;
  }
  const contentType = res.headers['content-type'];
  if (!contentType) {
    problems.push(`no Content-Type (documented: ${mediaTypes.join(', ')})`);
    return problems;
  }
  const mt = matchMediaType(content, contentType);
  if (!mt) {
    problems.push(`Content-Type ${contentType} is not documented for ${res.status} (documented: ${mediaTypes.join(', ')})`);
    return problems;
  }
  if (!hasBody) {
    problems.push(`empty body, but ${mt} is documented for ${res.status}`);
    return problems;
  }
  if (isJsonMediaType(mt)) {
    if (res.jsonError || res.json === undefined) {
      problems.push(`body is not JSON (${res.jsonError ?? 'not parsed'}): ${res.text.slice(0, 200)}`);
      return problems;
    }
    if (content[mt].schema !== undefined) {
      const err = validators.check([...tokens, 'content', mt, 'schema'], res.json);
      if (err) problems.push(`body does not match the ${res.status} ${mt} schema: ${err}; body: ${res.text.slice(0, 300)}`);
    }
  }
  // Non-JSON media types (text/plain metrics, HTML, JavaScript): the Content-Type is the contract.
  return problems;
}

/** Checks the error shape alone (for requests outside any operation, e.g. unknown routes). */
export function checkErrorShape({ validators }, res) {
  if (res.error) return [`no response: ${res.error}`];
  const problems = [];
  if (res.status < 400 || res.status > 599) problems.push(`status ${res.status} is not an error`);
  if (res.status >= 500) problems.push(`status ${res.status}: a server error for a client mistake`);
  if (!/^application\/json\b/i.test(res.headers['content-type'] ?? '')) {
    problems.push(`Content-Type ${res.headers['content-type']} is not application/json`);
  } else if (res.json === undefined) {
    problems.push(`body is not JSON: ${res.text.slice(0, 200)}`);
  } else {
    const err = validators.check(['components', 'schemas', 'Error'], res.json);
    if (err) problems.push(`body is not the Error shape: ${err}; body: ${res.text.slice(0, 300)}`);
  }
  if (!res.headers['x-request-id']) problems.push('no X-Request-Id');
  return problems;
}

export { deref };
