// psql.mjs - one-value queries against the stack's PostgreSQL (HERALD_DATABASE_URL) through the
// psql client, for scenario setup steps that need what only the database holds (the raw tokens
// of password-reset and verification e-mails). Values are passed as psql variables and quoted
// by psql (:'name'), never pasted into the SQL. PSQL=/path/to/psql when it is not on PATH.
import { execFileSync } from 'node:child_process';

/**
 * Runs sql (one statement, variables as :'name') with vars and returns the first column of the
 * first row as a string, or null when there is no row. Throws with psql's message on failure.
 */
export function psqlValue(sql, vars = {}) {
  const url = process.env.HERALD_DATABASE_URL;
  if (!url) throw new Error('HERALD_DATABASE_URL is not set');
  const args = [url, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1'];
  for (const [name, value] of Object.entries(vars)) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad psql variable name ${name}`);
    args.push('-v', `${name}=${value}`);
  }
  let out;
  try {
    out = execFileSync(process.env.PSQL || 'psql', [...args, '-f', '-'], { input: `${sql}\n`, encoding: 'utf8', timeout: 15000 });
  } catch (e) {
    throw new Error(`psql failed: ${(e.stderr || e.message).toString().trim()}`);
  }
  const line = out.split('\n')[0];
  return line === '' ? null : line;
}

/**
 * The raw token of the newest e-mail of this kind ('password_reset', 'email_verification'),
 * read from the link in its body as the recipient would (it is stored nowhere else).
 */
export function emailToken(userId, templateKey) {
  return psqlValue(
    "SELECT substring(body from 'token=([A-Za-z0-9_-]+)') FROM notifications" +
      " WHERE user_id = :'uid'::uuid AND template_key = :'kind'" +
      ' ORDER BY created_at DESC LIMIT 1;',
    { uid: userId, kind: templateKey },
  );
}
