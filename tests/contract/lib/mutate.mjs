// mutate.mjs - request bodies that break a JSON Schema, one fault at a time.
//
// From a valid base body (the documented example, else one synthesized from the schema), it
// derives cases: each required property missing, each property of a wrong JSON type, each bound
// (minLength/maxLength, minimum/maximum, minItems/maxItems, enum, const, format, pattern)
// crossed, an unexpected property where the object is closed, a 100,000-character string in each
// string, and bodies of the wrong top-level type. Every case is checked against the schema with
// Ajv and kept only if it really is invalid, so a case never "passes" by accident.

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

export const HUGE = 100000;

/** Resolves $ref and merges allOf (enough for synthesis and walking, not for validation). */
export function flatten(doc, schema, depth = 0) {
  if (!isObject(schema) || depth > 20) return isObject(schema) ? schema : {};
  let s = schema;
  if (typeof s.$ref === 'string' && s.$ref.startsWith('#/')) {
    let node = doc;
    for (const t of s.$ref.slice(2).split('/')) node = node?.[decodeURIComponent(t).replace(/~1/g, '/').replace(/~0/g, '~')];
    const { $ref, ...rest } = s;
    s = { ...flatten(doc, node, depth + 1), ...rest };
  }
  if (Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s;
    const merged = { ...rest };
    for (const part of allOf.map((p) => flatten(doc, p, depth + 1))) {
      for (const [k, v] of Object.entries(part)) {
        if (k === 'properties') merged.properties = { ...(merged.properties ?? {}), ...v };
        else if (k === 'required') merged.required = [...new Set([...(merged.required ?? []), ...v])];
        else if (merged[k] === undefined) merged[k] = v;
      }
    }
    s = merged;
  }
  return s;
}

function typesOf(s) {
  if (Array.isArray(s.type)) return s.type;
  if (s.type) return [s.type];
  if (s.const !== undefined) return [jsonType(s.const)];
  if (s.enum) return [...new Set(s.enum.map(jsonType))];
  if (s.properties) return ['object'];
  return [];
}

export function jsonType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (Number.isInteger(v)) return 'integer';
  return typeof v;
}

const FORMAT_SAMPLES = {
  email: 'contract@example.test',
  uuid: '0d6f1c7e-2b9a-4f7e-8c61-1a2b3c4d5e6f',
  'date-time': '2026-01-02T03:04:05Z',
  date: '2026-01-02',
  uri: 'https://example.test/x',
  url: 'https://example.test/x',
  hostname: 'example.test',
  ipv4: '192.0.2.1',
  ipv6: '2001:db8::1',
};

/** A value valid for schema, or throws when it cannot be synthesized (give an example). */
export function synthesize(doc, schema, where = 'body', depth = 0) {
  const s = flatten(doc, schema);
  if (s.examples?.length) return clone(s.examples[0]);
  if (s.example !== undefined) return clone(s.example);
  if (s.const !== undefined) return clone(s.const);
  if (s.enum?.length) return clone(s.enum[0]);
  if (s.default !== undefined) return clone(s.default);
  if (depth > 8) throw new Error(`${where}: schema too deep to synthesize`);
  const t = typesOf(s).filter((x) => x !== 'null')[0] ?? 'object';
  switch (t) {
    case 'object': {
      const out = {};
      for (const [name, sub] of Object.entries(s.properties ?? {})) {
        if ((s.required ?? []).includes(name)) out[name] = synthesize(doc, sub, `${where}.${name}`, depth + 1);
      }
      return out;
    }
    case 'array': {
      const n = s.minItems ?? 0;
      return Array.from({ length: n }, (_, i) => synthesize(doc, s.items ?? {}, `${where}[${i}]`, depth + 1));
    }
    case 'string': {
      if (s.format && FORMAT_SAMPLES[s.format]) return FORMAT_SAMPLES[s.format];
      if (s.pattern) throw new Error(`${where}: a string with a pattern needs an example`);
      const n = Math.max(s.minLength ?? 1, 1);
      return 'x'.repeat(Math.min(n, s.maxLength ?? n));
    }
    case 'integer':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : Math.min(1, s.maximum ?? 1));
    case 'number':
      return s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 0.5 : Math.min(1, s.maximum ?? 1));
    case 'boolean':
      return true;
    default:
      throw new Error(`${where}: cannot synthesize type ${t}`);
  }
}

const WRONG_TYPE_VALUES = [
  ['string', 'not-the-right-type'],
  ['integer', 12345],
  ['number', 1.5],
  ['boolean', true],
  ['object', { unexpected: true }],
  ['array', ['unexpected']],
  ['null', null],
];

function accepts(types, t) {
  return types.includes(t) || (t === 'integer' && types.includes('number'));
}

/** Cases for one value slot: [{ what, value }] (value undefined means "remove"). */
function valueCases(doc, schema, current) {
  const s = flatten(doc, schema);
  const types = typesOf(s);
  const out = [];
  if (types.length) {
    const wrong = WRONG_TYPE_VALUES.find(([t]) => !accepts(types, t));
    if (wrong) out.push({ what: `wrong type (${wrong[0]} instead of ${types.join('|')})`, value: wrong[1] });
    if (!types.includes('null')) out.push({ what: 'null', value: null });
  }
  if (s.enum) out.push({ what: 'not one of the enum values', value: typeof s.enum[0] === 'number' ? -987654321 : 'contract-not-in-enum' });
  if (s.const !== undefined) out.push({ what: 'not the const value', value: typeof s.const === 'number' ? s.const + 1 : `${s.const}-not` });
  if (types.includes('string')) {
    if (s.minLength > 0) out.push({ what: `shorter than minLength ${s.minLength}`, value: 'x'.repeat(s.minLength - 1) });
    if (s.maxLength !== undefined) out.push({ what: `longer than maxLength ${s.maxLength}`, value: 'x'.repeat(s.maxLength + 1) });
    out.push({ what: `a ${HUGE}-character string`, value: 'x'.repeat(HUGE) });
    if (s.format) out.push({ what: `not a valid ${s.format}`, value: `not a ${s.format} !` });
    if (s.pattern) out.push({ what: `not matching ${s.pattern}`, value: ' \u0001 contract ! ' });
  }
  if (types.includes('integer') || types.includes('number')) {
    if (s.minimum !== undefined) out.push({ what: `below minimum ${s.minimum}`, value: s.minimum - 1 });
    if (s.maximum !== undefined) out.push({ what: `above maximum ${s.maximum}`, value: s.maximum + 1 });
    if (s.exclusiveMinimum !== undefined) out.push({ what: `not above ${s.exclusiveMinimum}`, value: s.exclusiveMinimum });
    if (s.exclusiveMaximum !== undefined) out.push({ what: `not below ${s.exclusiveMaximum}`, value: s.exclusiveMaximum });
    if (types.includes('integer') && !types.includes('number')) out.push({ what: 'a fraction for an integer', value: 1.5 });
    out.push({ what: 'a huge number', value: 1e300 });
  }
  if (types.includes('array')) {
    const item = Array.isArray(current) && current.length ? current[0] : undefined;
    if (s.minItems > 0) out.push({ what: `fewer than minItems ${s.minItems}`, value: (current ?? []).slice(0, s.minItems - 1) });
    if (s.maxItems !== undefined && item !== undefined) out.push({ what: `more than maxItems ${s.maxItems}`, value: Array(s.maxItems + 1).fill(item) });
  }
  return out;
}

function getAt(obj, path) {
  return path.reduce((o, k) => (o === undefined ? undefined : o[k]), obj);
}

function setAt(obj, path, value) {
  const copy = clone(obj);
  if (path.length === 0) return value;
  const parent = getAt(copy, path.slice(0, -1));
  if (value === undefined) delete parent[path[path.length - 1]];
  else parent[path[path.length - 1]] = value;
  return copy;
}

/**
 * Every case for a request schema: [{ name, body, param }] where param is the dotted path of
 * the broken field ("" for the whole body). base must be valid.
 */
export function generateCases(doc, schema, base) {
  const cases = [];
  // root: the valid body this branch breaks (the base, or the base plus an optional value).
  const walk = (sch, path, depth, root, tag) => {
    const s = flatten(doc, sch);
    const here = getAt(root, path);
    const label = path.join('.') || '(body)';
    const name = (what) => `${label}${tag}: ${what}`;
    if (depth > 0) {
      for (const c of valueCases(doc, s, here)) cases.push({ name: name(c.what), body: setAt(root, path, c.value), param: label });
    }
    if (isObject(here) && typesOf(s).includes('object')) {
      for (const req of s.required ?? []) {
        const p = [...path, req];
        cases.push({ name: `${p.join('.')}${tag}: missing (required)`, body: setAt(root, p, undefined), param: p.join('.') });
      }
      if (s.additionalProperties === false || s.unevaluatedProperties === false) {
        const p = [...path, 'contract_unexpected_field'];
        cases.push({ name: name('an unexpected property'), body: setAt(root, p, 1), param: p.join('.') });
      }
      if (depth < 4) {
        for (const [prop, sub] of Object.entries(s.properties ?? {})) {
          const p = [...path, prop];
          if (getAt(root, p) !== undefined) {
            walk(sub, p, depth + 1, root, tag);
            continue;
          }
          // An optional property the body leaves out: break it from a valid value.
          try {
            walk(sub, p, depth + 1, setAt(root, p, synthesize(doc, sub, p.join('.'))), ' (optional)');
          } catch {
            /* cannot synthesize it (a pattern without an example): nothing to break from */
          }
        }
      }
    }
    if (Array.isArray(here) && s.items && depth < 4) {
      if (here.length) walk(s.items, [...path, 0], depth + 1, root, tag);
      else if ((s.maxItems ?? 1) >= 1) {
        try {
          const withItem = setAt(root, path, [synthesize(doc, s.items, `${label}[0]`)]);
          if (s.maxItems !== undefined) {
            cases.push({ name: name(`more than maxItems ${s.maxItems}`), body: setAt(withItem, path, Array(s.maxItems + 1).fill(getAt(withItem, [...path, 0]))), param: label });
          }
          walk(s.items, [...path, 0], depth + 1, withItem, tag);
        } catch {
          /* items cannot be synthesized */
        }
      }
    }
  };
  walk(schema, [], 0, base, '');
  for (const [t, v] of [['an array', []], ['a string', 'body'], ['a number', 42], ['null', null], ['true', true]]) {
    cases.push({ name: `the body is ${t}`, body: v, param: '' });
  }
  return cases;
}
