// Responses of the request pipeline outside any operation: 405 with Allow, unknown routes.
// (Every documented path is also probed with each undocumented method automatically.)

export default [
  {
    name: 'DELETE on a GET-only path',
    method: 'DELETE',
    path: '/healthz',
    response: 'MethodNotAllowed',
    expect: 405,
    check: (res) => (res.headers.allow === 'GET' ? [] : `Allow is ${res.headers.allow}`),
  },
  {
    name: 'an unknown route',
    method: 'GET',
    path: '/api/v1/no-such-thing',
    response: 'NotFound',
    expect: 404,
    check: (res) => (res.json?.error?.code === 'not_found' ? [] : `code ${res.json?.error?.code}`),
  },
  {
    name: 'an unknown route with a request id keeps it',
    method: 'POST',
    path: '/api/v1/no-such-thing',
    request: { headers: { 'X-Request-Id': 'contract-404' } },
    response: 'NotFound',
    expect: 404,
    check: (res) => (res.headers['x-request-id'] === 'contract-404' ? [] : `X-Request-Id ${res.headers['x-request-id']}`),
  },
];
