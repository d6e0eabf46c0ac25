// Herald's own lint rules for openapi/openapi.yaml (loaded by openapi/redocly.yaml).
//
//   herald/closed-objects        every `type: object` schema says what else may appear
//                                (additionalProperties or unevaluatedProperties)
//   herald/bounded-request-strings  every string in a request body has a maxLength (or is an
//                                enum/const, or a uuid/date-time/date format)
//   herald/error-responses       every 4XX/5XX JSON response uses the Error schema (directly or
//                                as the first allOf member), unless it sets x-herald-not-error
//   herald/public-or-secured     an operation either lists security or says security: [] and
//                                documents 401 when it is not public

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const types = (schema) => (Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []);

function closedObjects() {
  return {
    Schema(schema, ctx) {
      if (!isObject(schema) || !types(schema).includes('object')) return;
      if (schema.additionalProperties === undefined && schema.unevaluatedProperties === undefined) {
        ctx.report({
          message: 'Object schemas set additionalProperties (false for what we emit or accept, or true/a schema with a reason in the description).',
          location: ctx.location.child(['type']).key(),
        });
      }
    },
  };
}

const boundedFormats = new Set(['uuid', 'date-time', 'date', 'time', 'ipv4', 'ipv6']);

function unboundedStrings(schema, ctx, where, seen, out) {
  if (!isObject(schema)) return;
  if (typeof schema.$ref === 'string') {
    const { node } = ctx.resolve(schema);
    if (node && node !== schema && !seen.has(node)) {
      seen.add(node);
      unboundedStrings(node, ctx, where, seen, out);
    }
    return;
  }
  if (types(schema).includes('string') && schema.maxLength === undefined && schema.enum === undefined &&
      schema.const === undefined && !(schema.format && boundedFormats.has(schema.format))) {
    out.push(where || '(the body)');
  }
  for (const [name, sub] of Object.entries(schema.properties ?? {})) {
    unboundedStrings(sub, ctx, where ? `${where}.${name}` : name, seen, out);
  }
  for (const [pattern, sub] of Object.entries(schema.patternProperties ?? {})) {
    unboundedStrings(sub, ctx, `${where}[/${pattern}/]`, seen, out);
  }
  if (isObject(schema.additionalProperties)) unboundedStrings(schema.additionalProperties, ctx, `${where}[*]`, seen, out);
  if (isObject(schema.items)) unboundedStrings(schema.items, ctx, `${where}[]`, seen, out);
  (schema.prefixItems ?? []).forEach((sub, i) => unboundedStrings(sub, ctx, `${where}[${i}]`, seen, out));
  for (const k of ['allOf', 'anyOf', 'oneOf']) {
    (schema[k] ?? []).forEach((sub) => unboundedStrings(sub, ctx, where, seen, out));
  }
}

function boundedRequestStrings() {
  return {
    RequestBody: {
      MediaType(media, ctx) {
        if (!isObject(media) || !isObject(media.schema)) return;
        const out = [];
        unboundedStrings(media.schema, ctx, '', new Set(), out);
        for (const where of new Set(out)) {
          ctx.report({
            message: `The request body string \`${where}\` has no maxLength (DESIGN.md: string lengths are bounded; an enum, const or uuid/date-time format also bounds it).`,
            location: ctx.location.child(['schema']),
          });
        }
      },
    },
  };
}

function refersToError(schema, ctx) {
  if (!isObject(schema)) return false;
  if (typeof schema.$ref === 'string') {
    if (/#\/components\/schemas\/Error$/.test(schema.$ref)) return true;
    const { node } = ctx.resolve(schema);
    return node !== schema && refersToError(node, ctx);
  }
  return Array.isArray(schema.allOf) && refersToError(schema.allOf[0], ctx);
}

function errorResponses() {
  return {
    Operation: {
      Response: {
        enter(response, ctx) {
          const code = String(ctx.key);
          if (!/^[45]/.test(code) || !isObject(response) || response['x-herald-not-error']) return;
          const media = response.content?.['application/json'];
          if (!media) {
            ctx.report({
              message: `The ${code} response has no application/json body: errors always use the Error shape.`,
              location: ctx.location.key(),
            });
            return;
          }
          if (!refersToError(media.schema, ctx)) {
            ctx.report({
              message: `The ${code} response does not use #/components/schemas/Error (directly or as the first allOf member).`,
              location: ctx.location.child(['content', 'application/json', 'schema']),
            });
          }
        },
      },
    },
  };
}

function publicOrSecured() {
  let globalSecurity = [];
  return {
    Root(root) {
      globalSecurity = Array.isArray(root?.security) ? root.security : [];
    },
    Operation(op, ctx) {
      if (!isObject(op)) return;
      const security = op.security ?? globalSecurity;
      const isPublic = security.length === 0 || security.some((req) => isObject(req) && Object.keys(req).length === 0);
      if (!isPublic && !op.responses?.['401']) {
        ctx.report({
          message: 'An operation that needs credentials documents its 401 response.',
          location: ctx.location.child(['responses']).key(),
        });
      }
    },
  };
}

export default function heraldRules() {
  return {
    id: 'herald',
    rules: {
      oas3: {
        'closed-objects': closedObjects,
        'bounded-request-strings': boundedRequestStrings,
        'error-responses': errorResponses,
        'public-or-secured': publicOrSecured,
      },
    },
  };
}
