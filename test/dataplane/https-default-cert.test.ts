// The HTTPS port's default certificate (a client without SNI) across applies: an apply that keeps
// it (a route change) leaves the TLS server's context alone (http-port.ts skips parsing the PEMs
// again), and one that rotates it serves the new certificate to the next connection; in one
// process and with workers (the port text then arrives decoded anew on every route change).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { createEngine } from '../../src/dataplane/engine.js';
import { sealKey } from '../../src/ir/keys.js';
import type { Certificate, HTTPRouteEntry, IR } from '../../src/ir/types.js';
import { pki } from '../fixtures/pki.js';
import { cluster, echoBackend, freePort, httpPort, listener, route, to } from './helpers.js';

/** The subject alternative names of the certificate a client without SNI gets, and its answer to GET `path`. */
function fetchNoSni(port: number, path: string): Promise<{ san: string; status: string }> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const san = new X509Certificate(s.getPeerX509Certificate()!.raw).subjectAltName ?? '';
      s.write(`GET ${path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
      let out = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (out += d));
      s.on('end', () => resolve({ san, status: out.slice(9, 12) }));
    });
    s.on('error', reject);
  });
}

for (const workers of [1, 2]) {
  test(`HTTPS default certificate (${workers} process${workers > 1 ? 'es' : ''}): kept across a route change, rotated by a Secret change`, async () => {
    const a = await echoBackend('a');
    const port = await freePort();
    const engine = createEngine({ workers });
    const cert = (c: { certPem: string; keyPem: string }): Certificate => sealKey({ secret: 'default/s', certPem: c.certPem, dnsNames: [] } as unknown as Certificate, c.keyPem);
    const ir = (c: { certPem: string; keyPem: string }, routes: HTTPRouteEntry[]): IR => ({
      ports: [httpPort(port, [{ ...listener('s', routes), protocol: 'HTTPS', tls: { mode: 'Terminate', certificates: [cert(c)] } }], 'HTTPS')],
      clusters: { a: cluster('a', [a.port]) },
    });
    const first = route({ path: { type: 'PathPrefix', value: '/first' } }, [to('a')]);
    const second = route({ path: { type: 'PathPrefix', value: '/second' } }, [to('a')]);
    try {
      await engine.apply(ir(pki.gateway, [first]));
      let r = await fetchNoSni(port, '/first');
      assert.match(r.san, /gw\.example\.com/);
      assert.equal(r.status, '200');
      // A route change: the same certificate (new objects with the same PEMs), the new route serves.
      await engine.apply(ir(pki.gateway, [first, second]));
      r = await fetchNoSni(port, '/second');
      assert.match(r.san, /gw\.example\.com/);
      assert.equal(r.status, '200');
      // The Secret rotates: the next connection gets the new certificate.
      await engine.apply(ir(pki.backend, [first, second]));
      for (let i = 0; i < 4; i++) assert.match((await fetchNoSni(port, '/first')).san, /backend\.internal/);
      // And back.
      await engine.apply(ir(pki.gateway, [second]));
      for (let i = 0; i < 4; i++) {
        r = await fetchNoSni(port, '/first');
        assert.match(r.san, /gw\.example\.com/);
        assert.equal(r.status, '404');
      }
    } finally {
      await engine.close(500);
      await a.close();
    }
  });
}
