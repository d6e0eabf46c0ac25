// http.mjs - a small HTTP/1.1 client on node:http. Unlike fetch it sends bodies with any method
// (GET included), any header and any byte string, and reports dropped connections as such.
import http from 'node:http';

/**
 * Sends one request.
 *   base     "http://127.0.0.1:PORT"
 *   method   "GET"
 *   path     "/healthz" (already encoded), query: { name: value } appended
 *   headers  { name: value }
 *   body     a JSON value (sent as application/json unless headers say otherwise)
 *   rawBody  a string or Buffer sent as is (contentType sets its Content-Type)
 *   chunked  true: send the body with Transfer-Encoding: chunked
 *   readUntil  a string: resolve (and drop the connection) once the body so far contains it,
 *            for responses that do not end by themselves (text/event-stream)
 * Resolves to { status, headers (lower-case names), buffer, text, json, jsonError, ms } or,
 * when no response arrived, { error: "ECONNRESET ..." }. Never rejects.
 */
export function request({ base, method = 'GET', path = '/', query, headers = {}, body, rawBody, contentType,
  chunked = false, timeoutMs = 15000, readUntil }) {
  const url = new URL(path, base);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined) url.searchParams.append(k, String(v));
  }
  const h = { Connection: 'close', ...headers };
  let payload = null;
  if (rawBody !== undefined) {
    payload = Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(String(rawBody), 'utf8');
    if (contentType) h['Content-Type'] = contentType;
  } else if (body !== undefined) {
    payload = Buffer.from(JSON.stringify(body), 'utf8');
    h['Content-Type'] = contentType ?? 'application/json';
  }
  if (payload && !chunked) h['Content-Length'] = String(payload.length);
  if (payload && chunked) h['Transfer-Encoding'] = 'chunked';
  const started = process.hrtime.bigint();

  return new Promise((resolve) => {
    let settled = false;
    const done = (value) => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
    };
    const req = http.request(
      url,
      { method, headers: h, timeout: timeoutMs, insecureHTTPParser: false },
      (res) => {
        const chunks = [];
        let finish = null;
        res.on('data', (c) => {
          chunks.push(c);
          if (readUntil !== undefined && Buffer.concat(chunks).toString('utf8').includes(readUntil)) {
            finish();
            req.destroy();
          }
        });
        res.on('error', (e) => done({ error: `${e.code ?? 'ERROR'} while reading the response: ${e.message}` }));
        res.on('end', () => finish());
        finish = () => {
          const buffer = Buffer.concat(chunks);
          const text = buffer.toString('utf8');
          let json;
          let jsonError = null;
          if (/^application\/([a-z0-9.+-]+\+)?json\b/i.test(res.headers['content-type'] ?? '')) {
            try {
              json = JSON.parse(text);
            } catch (e) {
              jsonError = e.message;
            }
          }
          done({
            status: res.statusCode,
            headers: res.headers,
            buffer,
            text,
            json,
            jsonError,
            ms: Number(process.hrtime.bigint() - started) / 1e6,
          });
        };
      },
    );
    req.on('timeout', () => {
      req.destroy(new Error(`no response within ${timeoutMs} ms`));
    });
    // A server may answer (413) and close before it has read the whole body: the response
    // still counts; only an error before any response is a dropped connection.
    req.on('error', (e) => done({ error: `${e.code ?? 'ERROR'}: ${e.message}` }));
    if (payload) {
      if (chunked) {
        const step = 64 * 1024;
        for (let i = 0; i < payload.length; i += step) req.write(payload.subarray(i, i + step));
        req.end();
      } else {
        req.end(payload);
      }
    } else {
      req.end();
    }
  });
}
