// Probes and metrics: /healthz, /readyz, /metrics.
//
// A scenario file exports a list of calls (or a function of the harness returning one):
//   { name, operationId, request: { params, query, headers, body, rawBody, contentType,
//     chunked, auth }, expect: <status>, server: 'main' | 'degraded' | <own>, check(res, h) }
// or, for responses outside any operation (405, unknown routes):
//   { name, method, path, response: '<components.responses name>', expect }
// check() returns nothing/[] when fine, else a problem string or list. See README.md.

const requestId = 'contract-probe-1';

export default [
  {
    name: 'alive',
    operationId: 'getHealth',
    expect: 200,
  },
  {
    name: 'echoes a valid X-Request-Id',
    operationId: 'getHealth',
    request: { headers: { 'X-Request-Id': requestId } },
    expect: 200,
    check: (res) => (res.headers['x-request-id'] === requestId ? [] : `X-Request-Id is ${res.headers['x-request-id']}`),
  },
  {
    name: 'replaces an invalid X-Request-Id by a UUID',
    operationId: 'getHealth',
    request: { headers: { 'X-Request-Id': 'bad id with spaces' } },
    // Outside the parameter's pattern on purpose: the server must not echo it.
    expect: 200,
    check: (res) =>
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(res.headers['x-request-id'])
        ? [] : `X-Request-Id is ${res.headers['x-request-id']}, not a generated UUID v4`,
    allowOutsideContract: true,
  },
  {
    name: 'a malformed JSON body on a GET is a 400 malformed_json',
    operationId: 'getHealth',
    request: { rawBody: '{"oops": ', contentType: 'application/json' },
    expect: 400,
    check: (res) => (res.json?.error?.code === 'malformed_json' ? [] : `code ${res.json?.error?.code}`),
  },
  {
    name: 'PostgreSQL and Redis up',
    operationId: 'getReadiness',
    expect: 200,
  },
  {
    name: 'Redis down (second instance on a closed port)',
    operationId: 'getReadiness',
    server: 'degraded',
    expect: 503,
    check: (res) => [
      res.json?.checks?.redis === 'down' ? null : `checks.redis is ${res.json?.checks?.redis}`,
      res.json?.checks?.postgres === 'ok' ? null : `checks.postgres is ${res.json?.checks?.postgres}`,
    ],
  },
  {
    name: 'a non-JSON body is a 415',
    operationId: 'getReadiness',
    request: { rawBody: 'ready?', contentType: 'text/plain' },
    expect: 415,
  },
  {
    name: 'Prometheus text',
    operationId: 'getMetrics',
    expect: 200,
    check: (res) => [
      /^text\/plain; version=0\.0\.4/.test(res.headers['content-type']) ? null : `Content-Type ${res.headers['content-type']}`,
      /^herald_http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+$/m.test(res.text)
        ? null : 'no herald_http_requests_total sample for GET /healthz 200',
      /^herald_pool_size\{pool="postgres"\} \d+$/m.test(res.text) ? null : 'no herald_pool_size{pool="postgres"}',
    ],
  },
  {
    name: 'a JSON body nested too deep is a 400 json_too_deep',
    operationId: 'getMetrics',
    request: { rawBody: `${'['.repeat(40)}${']'.repeat(40)}`, contentType: 'application/json' },
    expect: 400,
    check: (res) => (res.json?.error?.code === 'json_too_deep' ? [] : `code ${res.json?.error?.code}`),
  },
];
