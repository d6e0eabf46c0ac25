// auth.mjs - bearer tokens for scenarios (request.auth: "admin").
//
// The admin is generated per run (`herald-api create-admin` with a random e-mail and password,
// see Harness.prepareDatabase). Tokens come from the login operation of the document: the one
// whose operationId is "login", or else POST /api/v1/auth/login. Its body is
// { "email", "password" } and its 200 body carries "access_token". Adjust here, in one place,
// if the auth endpoints settle on other names.
import { request } from './http.mjs';
import { fillPath } from './request.mjs';

function loginOperation(h) {
  return h.byId.get('login') ?? h.ops.find((o) => o.method === 'POST' && o.template === '/api/v1/auth/login') ?? null;
}

export async function login(h, email, password) {
  const op = loginOperation(h);
  if (!op) throw new Error('no login operation is documented yet (operationId "login" or POST /api/v1/auth/login)');
  const s = await h.server('main');
  const res = await request({ base: s.base, method: op.method, path: fillPath(op.template, {}), body: { email, password } });
  if (res.error || res.status !== 200 || typeof res.json?.access_token !== 'string') {
    throw new Error(`login as ${email} failed: ${res.error ?? `${res.status} ${res.text.slice(0, 300)}`}`);
  }
  return res.json.access_token;
}

export async function tokenFor(h, who) {
  if (who === 'admin') return login(h, h.admin.email, h.admin.password);
  throw new Error(`no way to get a token for "${who}" yet (only "admin"); extend tests/contract/lib/auth.mjs`);
}

// A new account for a scenario: registers body (202: registration hands out no tokens and
// answers the same for a taken address), signs in and reads the account. Returns
// { id, email, access, refresh, user }.
export async function signUp(h, body) {
  const reg = await h.call('register', { body });
  if (reg.error || reg.status !== 202) {
    throw new Error(`setup: register ${body.email}: expected 202, got ${reg.error ?? `${reg.status} ${reg.text.slice(0, 300)}`}`);
  }
  const signIn = await h.call('login', { body: { email: body.email, password: body.password } });
  if (signIn.error || signIn.status !== 200) {
    throw new Error(`setup: sign in ${body.email}: ${signIn.error ?? `${signIn.status} ${signIn.text.slice(0, 300)}`}`);
  }
  const me = await h.call('getMe', { auth: { token: signIn.json.access_token } });
  if (me.error || me.status !== 200) throw new Error(`setup: read ${body.email}: ${me.error ?? me.status}`);
  return { id: me.json.id, email: body.email, access: signIn.json.access_token, refresh: signIn.json.refresh_token, user: me.json };
}
