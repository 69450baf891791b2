// Gateway spec.tls.backend.clientCertificateRef on real sockets: an HTTPS backend that requires
// a client certificate signed by the test CA answers through a cluster carrying the
// certificate (HTTP/1.1 and HTTP/2 front ends), and refuses the same cluster without it (502).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { Cluster, IR } from '../../src/ir/types.js';
import { pki } from '../fixtures/pki.js';
import { freePort, httpPort, listener, request, route, to } from './helpers.js';

describe('backend client certificate', () => {
  let backend: https.Server, backendPort: number, engine: Engine, port: number;

  before(async () => {
    backend = https.createServer({ ...{ cert: pki.backend.certPem, key: pki.backend.keyPem }, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`client=${peer.subject?.CN ?? '-'}`);
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    backendPort = (backend.address() as AddressInfo).port;
    port = await freePort();
    const tlsCluster = (name: string, withCert: boolean): Cluster => ({
      name,
      protocol: 'http1',
      endpoints: [{ address: '127.0.0.1', port: backendPort }],
      tls: {
        sni: 'backend.internal',
        caPem: pki.caPem,
        useSystemCAs: false,
        subjectAltNames: [],
        ...(withCert ? { clientCertificate: { secret: 'default/client', ...pki.client } } : {}),
      },
    });
    const ir: IR = {
      ports: [
        httpPort(port, [
          listener('http', [
            route({ path: { type: 'PathPrefix', value: '/with' } }, [to('with')]),
            route({ path: { type: 'PathPrefix', value: '/without' } }, [to('without')]),
          ]),
        ]),
      ],
      clusters: { with: tlsCluster('with', true), without: tlsCluster('without', false) },
    };
    engine = createEngine({});
    await engine.apply(ir);
  });
  after(async () => {
    await engine.close(100);
    backend.closeAllConnections();
    await new Promise((r) => backend.close(r));
  });

  test('HTTP/1.1: the certificate is presented; without it the backend refuses (502)', async () => {
    const ok = await request(port, '/with', { agent: false });
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'client=client.portico.test');
    const refused = await request(port, '/without', { agent: false });
    assert.equal(refused.status, 502);
  });

  test('HTTP/2 (h2c) front end reaches the same backend with the certificate', async () => {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const st = s.request({ ':path': '/with' });
        let out = '';
        st.setEncoding('utf8');
        st.on('data', (d: string) => (out += d));
        st.on('end', () => resolve(out));
        st.on('error', reject);
      });
      assert.equal(body, 'client=client.portico.test');
    } finally {
      s.close();
    }
  });
});
