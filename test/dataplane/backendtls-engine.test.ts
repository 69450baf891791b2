// BackendTLSPolicy end to end: HTTP client -> Portico engine -> HTTPS backend, with the IR
// built by the translator from an HTTPRoute, a BackendTLSPolicy and its CA ConfigMap.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createEngine } from '../../src/dataplane/engine.js';
import type { Engine } from '../../src/dataplane/engine-api.js';
import { freePort, LOOPBACK } from '../fixtures/l4.js';
import { pki } from '../fixtures/pki.js';
import { irOf, service } from '../fixtures/translate.js';

async function httpsBackend(name: string, cert: { certPem: string; keyPem: string }): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (req, res) => {
    res.end(`${name} sni=${(req.socket as TLSSocket).servername} path=${req.url}`);
  });
  await new Promise<void>((r) => srv.listen(0, LOOPBACK, r));
  return {
    port: (srv.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}

function get(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: LOOPBACK, port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

const indent = (pem: string): string => pem.replace(/^/gm, '    ');

function policy(name: string, svc: string, validation: string): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: ${name}, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: ${svc} }]
  validation:
${validation}
`;
}

describe('BackendTLSPolicy through the engine', () => {
  let good: Awaited<ReturnType<typeof httpsBackend>>;
  let rogue: Awaited<ReturnType<typeof httpsBackend>>;
  let engine: Engine;
  let port: number;

  before(async () => {
    good = await httpsBackend('good', pki.backend);
    rogue = await httpsBackend('rogue', pki.rogue);
    port = await freePort('tcp');
    const route = (host: string, svc: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${svc}, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: [${host}]
  rules: [{ backendRefs: [{ name: ${svc}, port: 443 }] }]
`;
    const ir = irOf(
      `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec:
  gatewayClassName: portico
  listeners: [{ name: http, protocol: HTTP, port: ${port} }]
---
apiVersion: v1
kind: ConfigMap
metadata: { name: test-ca, namespace: default }
data:
  ca.crt: |
${indent(pki.caPem)}
---
apiVersion: v1
kind: ConfigMap
metadata: { name: other-ca, namespace: default }
data:
  ca.crt: |
${indent(pki.otherCaPem)}
`,
      // verified: right CA, right hostname
      route('good.test', 'svc-good'),
      service('svc-good', 443, good.port),
      policy('p-good', 'svc-good', '    hostname: backend.internal\n    caCertificateRefs: [{ group: "", kind: ConfigMap, name: test-ca }]'),
      // backend certificate signed by a CA the policy does not trust
      route('rogue.test', 'svc-rogue'),
      service('svc-rogue', 443, rogue.port),
      policy('p-rogue', 'svc-rogue', '    hostname: backend.internal\n    caCertificateRefs: [{ group: "", kind: ConfigMap, name: test-ca }]'),
      // right backend, policy trusts only the other CA
      route('wrongca.test', 'svc-wrongca'),
      service('svc-wrongca', 443, good.port),
      policy('p-wrongca', 'svc-wrongca', '    hostname: backend.internal\n    caCertificateRefs: [{ group: "", kind: ConfigMap, name: other-ca }]'),
      // hostname the certificate does not carry
      route('wrongname.test', 'svc-wrongname'),
      service('svc-wrongname', 443, good.port),
      policy('p-wrongname', 'svc-wrongname', '    hostname: nope.internal\n    caCertificateRefs: [{ group: "", kind: ConfigMap, name: test-ca }]'),
      // subjectAltNames take over from the hostname
      route('san.test', 'svc-san'),
      service('svc-san', 443, good.port),
      policy(
        'p-san',
        'svc-san',
        '    hostname: nope.internal\n    caCertificateRefs: [{ group: "", kind: ConfigMap, name: test-ca }]\n    subjectAltNames: [{ type: URI, uri: "spiffe://portico.test/backend" }]',
      ),
    );
    const tlsClusters = Object.values(ir.clusters).filter((c) => c.tls);
    assert.equal(tlsClusters.length, 5, 'every policy produced an upstream TLS cluster');
    engine = createEngine({});
    await engine.apply(ir);
  });

  after(async () => {
    await engine?.close(100);
    await good?.close();
    await rogue?.close();
  });

  test('verified TLS to the backend, policy hostname as SNI', async () => {
    assert.deepEqual(await get(port, 'good.test', '/x'), { status: 200, body: 'good sni=backend.internal path=/x' });
  });

  test('backend certificate from an untrusted CA is rejected with 502', async () => {
    assert.equal((await get(port, 'rogue.test')).status, 502);
  });

  test('policy CA that did not sign the backend certificate: 502', async () => {
    assert.equal((await get(port, 'wrongca.test')).status, 502);
  });

  test('certificate without the policy hostname: 502', async () => {
    assert.equal((await get(port, 'wrongname.test')).status, 502);
  });

  test('subjectAltNames URI match is accepted even though the hostname is not in the certificate', async () => {
    const r = await get(port, 'san.test');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'good sni=nope.internal path=/');
  });
});
