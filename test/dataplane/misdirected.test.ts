// HTTPS listeners sharing a port: a request whose Host selects another listener than the
// connection's SNI did is answered 421 (GatewayHTTPSListenerDetectMisdirectedRequests), over
// HTTP/1.1 and HTTP/2; the same cases as the upstream conformance test, on real sockets.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { IR, Listener } from '../../src/ir/types.js';
import { pki } from '../fixtures/pki.js';
import { cluster, echoBackend, freePort, httpPort, listener, route, to, type Backend } from './helpers.js';

const CASES: [sni: string, host: string, status: number, backend?: string][] = [
  ['example.org', 'example.org', 200, 'v1'],
  ['example.org', 'second-example.org', 421],
  ['example.org', 'unknown-example.org', 404],
  ['second-example.org', 'second-example.org', 200, 'v2'],
  ['second-example.org', 'example.org', 421],
  ['second-example.org', 'unknown-example.org', 421],
  ['third-example.wildcard.org', 'third-example.wildcard.org', 200, 'v3'],
  ['third-example.wildcard.org', 'fith-example.wildcard.org', 200, 'v3'],
  ['third-example.wildcard.org', 'fourth-example.wildcard.org', 421],
  ['third-example.wildcard.org', 'second-example.org', 421],
  ['fourth-example.wildcard.org', 'fourth-example.wildcard.org', 200, 'v1'],
  ['fourth-example.wildcard.org', 'fith-example.wildcard.org', 421],
  ['unknown-example.org', 'example.org', 200, 'v1'],
  ['unknown-example.org', 'unknown-example.org', 404],
];

describe('misdirected requests on a shared HTTPS port', () => {
  const backends: Backend[] = [];
  let engine: Engine, port: number;

  before(async () => {
    for (const n of ['v1', 'v2', 'v3']) backends.push(await echoBackend(n));
    port = await freePort();
    const tlsListener = (name: string, hostname: string | undefined, vhost: string, c: string): Listener => ({
      ...listener(name, [route({ path: { type: 'PathPrefix', value: '/' } }, [to(c)])], hostname, vhost),
      protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificates: [{ secret: 'default/cert', ...pki.gateway, dnsNames: ['gw.example.com'] }] },
    });
    const ir: IR = {
      // Most specific listener first, as the translator orders them.
      ports: [
        httpPort(port, [
          tlsListener('fourth', 'fourth-example.wildcard.org', 'fourth-example.wildcard.org', 'v1'),
          tlsListener('second', 'second-example.org', 'second-example.org', 'v2'),
          tlsListener('wildcard', '*.wildcard.org', '*.wildcard.org', 'v3'),
          tlsListener('https', undefined, 'example.org', 'v1'),
        ], 'HTTPS'),
      ],
      clusters: Object.fromEntries(backends.map((b) => [b.name, cluster(b.name, [b.port])])),
    };
    engine = createEngine({});
    await engine.apply(ir);
  });
  after(async () => {
    await engine.close(100);
    for (const b of backends) await b.close();
  });

  const h1 = (sni: string, host: string): Promise<{ status: number; backend?: string }> =>
    new Promise((resolve, reject) => {
      const req = https.request(
        { host: '127.0.0.1', port, path: '/detect', servername: sni, headers: { host }, rejectUnauthorized: false, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, backend: res.headers['x-backend'] as string | undefined }));
        },
      );
      req.on('error', reject);
      req.end();
    });

  test('HTTP/1.1: Host selecting another listener than the SNI is 421', async () => {
    for (const [sni, host, status, backend] of CASES) {
      const r = await h1(sni, host);
      assert.equal(r.status, status, `${sni} / ${host}`);
      if (backend) assert.equal(r.backend, backend, `${sni} / ${host}`);
    }
  });

  test('HTTP/2: one connection per SNI, each stream checked on its own :authority', async () => {
    const bySni = new Map<string, http2.ClientHttp2Session>();
    try {
      for (const [sni, host, status, backend] of CASES) {
        let s = bySni.get(sni);
        if (!s) {
          s = http2.connect(`https://127.0.0.1:${port}`, { servername: sni, rejectUnauthorized: false });
          bySni.set(sni, s);
        }
        const r = await new Promise<{ status: number; backend?: string }>((resolve, reject) => {
          const st = s!.request({ ':path': '/detect', ':authority': host });
          let out = { status: 0, backend: undefined as string | undefined };
          st.on('response', (h) => (out = { status: Number(h[':status']), backend: h['x-backend'] as string | undefined }));
          st.resume();
          st.on('end', () => resolve(out));
          st.on('error', reject);
        });
        assert.equal(r.status, status, `${sni} / ${host}`);
        if (backend) assert.equal(r.backend, backend, `${sni} / ${host}`);
      }
    } finally {
      for (const s of bySni.values()) s.close();
    }
  });

  test('a client that sends no SNI is not bound to a listener: routed by Host alone', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = https.request({ host: '127.0.0.1', port, path: '/x', headers: { host: 'second-example.org' }, rejectUnauthorized: false, agent: false, servername: '' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(r, 200);
  });
});
