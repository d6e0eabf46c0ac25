// front.mjs - a loopback HTTP server in front of a real herald-api for the client tests. It
// forwards every request (streaming bodies, so the API's own event stream passes through),
// counts requests by "METHOD path", and can cut every open connection (dropConnections) to
// test that clients resume. With fakeStream it answers the stream endpoints itself
// (FakeStream): for an API that does not serve them yet. With staticDir it serves that folder's
// files at /guide/NAME (pages the guide test writes, without the API's /demo CSP).
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { FakeStream } from './fake-stream.mjs';

export class Front {
  constructor(apiBase, { fakeStream = false, staticDir = null } = {}) {
    this.staticDir = staticDir;
    this.api = new URL(apiBase);
    this.fake = fakeStream ? new FakeStream(apiBase) : null;
    this.sockets = new Set();
    this.counts = new Map();
    this.log = []; // { method, url, headers }
  }

  async start() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise((r) => this.server.listen(0, '127.0.0.1', r));
    this.base = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  count(key) {
    return this.counts.get(key) ?? 0;
  }

  handle(req, res) {
    const pathOnly = req.url.split('?')[0];
    const key = `${req.method} ${pathOnly}`;
    this.counts.set(key, this.count(key) + 1);
    this.log.push({ method: req.method, url: req.url, headers: req.headers });
    const file = /^\/guide\/([\w.-]+\.(html|js))$/.exec(pathOnly);
    if (this.staticDir && file) {
      readFile(path.join(this.staticDir, file[1])).then(
        (body) => res.writeHead(200, { 'Content-Type': file[2] === 'html' ? 'text/html' : 'text/javascript' }).end(body),
        () => res.writeHead(404).end(),
      );
      return;
    }
    if (this.fake && this.fake.handles(req.method, pathOnly)) {
      this.fake.handle(req, res);
      return;
    }
    const up = http.request(
      { host: this.api.hostname, port: this.api.port, method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  /** Cuts every open connection (streams and keep-alive ones), as a network drop would. */
  dropConnections() {
    this.fake?.dropAll();
    for (const s of this.sockets) s.destroy();
  }

  async stop() {
    this.fake?.stop();
    this.dropConnections();
    await new Promise((r) => this.server.close(r));
  }
}
