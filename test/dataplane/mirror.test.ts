// RequestMirror to clusters that do not speak plain HTTP/1.1: an h2c backend gets the copy
// over HTTP/2, an HTTPS backend behind a BackendTLSPolicy gets it over TLS with the policy's
// CA and SNI, both from the HTTP/1.1 front end, bodies included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { HTTPFilter } from '../../src/ir/types.js';
import { pki } from '../fixtures/pki.js';
import { cluster, echoBackend, freePort, json, request, route, simpleIR, to, type Backend } from './helpers.js';

interface Hit {
  proto: string;
  method: string;
  path: string;
  authority: string;
  header: string;
  body: string;
  sni?: string;
}

/** A server that records each request it gets (HTTP/2 prior knowledge, or HTTPS/1.1). */
async function recorder(kind: 'h2c' | 'https'): Promise<{ port: number; hits: Hit[]; close: () => Promise<void> }> {
  const hits: Hit[] = [];
  const onRequest = (req: http2.Http2ServerRequest | import('node:http').IncomingMessage, res: http2.Http2ServerResponse | import('node:http').ServerResponse): void => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      hits.push({
        proto: `HTTP/${req.httpVersion}`,
        method: req.method ?? '',
        path: req.url ?? '',
        authority: String(req.headers[':authority'] ?? req.headers.host ?? ''),
        header: String(req.headers['x-copy'] ?? ''),
        body,
        sni: kind === 'https' ? (req.socket as TLSSocket).servername || undefined : undefined,
      });
      res.end('mirror');
    });
  };
  const srv = kind === 'h2c' ? http2.createServer(onRequest) : https.createServer({ cert: pki.backend.certPem, key: pki.backend.keyPem }, onRequest);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as AddressInfo).port,
    hits,
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('RequestMirror to HTTP/2 and TLS clusters', () => {
  let a: Backend, h2c: Awaited<ReturnType<typeof recorder>>, secure: Awaited<ReturnType<typeof recorder>>, engine: Engine, port: number;
  const mirrorTo = (c: string): HTTPFilter => ({ type: 'RequestMirror', backend: { cluster: c }, fraction: 1 });
  before(async () => {
    a = await echoBackend('a');
    h2c = await recorder('h2c');
    secure = await recorder('https');
    port = await freePort();
    engine = createEngine({});
    await engine.apply(
      simpleIR(
        port,
        [
          route({ path: { type: 'PathPrefix', value: '/to-h2c' } }, [to('a')], [mirrorTo('h2c')]),
          route({ path: { type: 'PathPrefix', value: '/to-tls' } }, [to('a')], [mirrorTo('tls')]),
        ],
        [
          cluster('a', [a.port]),
          cluster('h2c', [h2c.port], { protocol: 'h2c' }),
          cluster('tls', [secure.port], { tls: { sni: 'backend.internal', caPem: pki.caPem, useSystemCAs: false, subjectAltNames: [] } }),
        ],
      ),
    );
  });
  after(async () => {
    await engine.close(100);
    await Promise.all([a.close(), h2c.close(), secure.close()]);
  });

  test('an h2c mirror gets the copy over HTTP/2, body and headers included', async () => {
    const r = await request(port, '/to-h2c/x?q=1', { method: 'POST', body: 'copy me', headers: { 'x-copy': 'yes', host: 'app.example' } });
    assert.equal(json(r).backend, 'a', 'the primary answers');
    await until(() => h2c.hits.length > 0);
    assert.deepEqual(h2c.hits.at(-1), { proto: 'HTTP/2.0', method: 'POST', path: '/to-h2c/x?q=1', authority: 'app.example', header: 'yes', body: 'copy me', sni: undefined });
  });

  test('a TLS mirror gets the copy over HTTPS with the policy SNI, and a GET without a body', async () => {
    await request(port, '/to-tls/y', { headers: { 'x-copy': 'tls' } });
    await until(() => secure.hits.length > 0);
    const hit = secure.hits.at(-1)!;
    assert.equal(hit.proto, 'HTTP/1.1');
    assert.equal(hit.method, 'GET');
    assert.equal(hit.path, '/to-tls/y');
    assert.equal(hit.header, 'tls');
    assert.equal(hit.sni, 'backend.internal');
  });
});
