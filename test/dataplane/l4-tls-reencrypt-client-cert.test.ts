// Gateway spec.tls.backend.clientCertificateRef for TLSRoute re-encryption, manifests to real
// sockets: a TLS listener in Terminate mode re-encrypts to a BackendTLSPolicy backend that
// requires a client certificate signed by the test CA. The Gateway that names its certificate
// gets through (the backend sees the certificate's CN); a Gateway without one is refused by the
// backend, exactly as for HTTP backends (backend-client-cert.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { createL4Server, type L4Server } from '../../src/dataplane/l4/index.js';
import { freePort, LOOPBACK } from '../fixtures/l4.js';
import { pki } from '../fixtures/pki.js';
import { translateYaml, GATEWAY_CLASS, service } from '../fixtures/translate.js';

/** A TLS backend that requires a client certificate from the test CA; answers `client=<CN>`. */
async function mtlsBackend(): Promise<{ port: number; authorized: () => number; close: () => Promise<void> }> {
  const socks = new Set<net.Socket>();
  let authorized = 0;
  const srv = tls.createServer({ cert: pki.backend.certPem, key: pki.backend.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (s) => {
    authorized++;
    s.on('error', () => {});
    s.end(`client=${s.getPeerCertificate().subject?.CN ?? '-'}`);
  });
  srv.on('connection', (s: net.Socket) => {
    socks.add(s);
    s.on('close', () => socks.delete(s));
  });
  srv.on('tlsClientError', (_err, s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, LOOPBACK, r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    authorized: () => authorized,
    close: () =>
      new Promise((r) => {
        for (const s of socks) s.destroy();
        srv.close(() => r());
      }),
  };
}

/** Connects to the gateway (trusting its certificate), reads until the end; body '' when the backend refused. */
function fetchVia(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const c = tls.connect({ host: LOOPBACK, port, servername, ca: pki.caPem });
    let body = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (body += d));
    c.on('end', () => resolve(body));
    c.on('close', () => resolve(body));
    c.on('error', () => resolve(body));
  });
}

const tlsSecret = (name: string, pair: { certPem: string; keyPem: string }): string =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'default' },
    type: 'kubernetes.io/tls',
    stringData: { 'tls.crt': pair.certPem, 'tls.key': pair.keyPem },
  });

const gateway = (name: string, port: number, clientCert: boolean): string => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: ${name}, namespace: default }
spec:
  gatewayClassName: portico
  listeners:
    - name: tls
      protocol: TLS
      port: ${port}
      hostname: "*.gw.example.com"
      tls: { mode: Terminate, certificateRefs: [{ name: gw-cert }] }
${clientCert ? '  tls:\n    backend:\n      clientCertificateRef: { name: client-cert }\n' : ''}`;

const tlsRoute = (name: string, gw: string, host: string): string => `
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: { name: ${name}, namespace: default }
spec:
  parentRefs: [{ name: ${gw} }]
  hostnames: ["${host}"]
  rules: [{ backendRefs: [{ name: secure, port: 443 }] }]
`;

test('TLSRoute re-encryption presents the Gateway backend client certificate; without one the backend refuses', async () => {
  const backend = await mtlsBackend();
  const servers: L4Server[] = [];
  try {
    const [withP, withoutP] = [await freePort('tcp'), await freePort('tcp')];
    const { ir, statuses } = translateYaml(
      GATEWAY_CLASS,
      gateway('with', withP, true),
      gateway('without', withoutP, false),
      tlsRoute('a', 'with', 'app.gw.example.com'),
      tlsRoute('b', 'without', 'app.gw.example.com'),
      service('secure', 443, backend.port),
      tlsSecret('gw-cert', pki.gateway),
      tlsSecret('client-cert', pki.client),
      JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'backend-ca', namespace: 'default' }, data: { 'ca.crt': pki.caPem } }),
      `
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: secure-tls, namespace: default }
spec:
  targetRefs: [{ group: "", kind: Service, name: secure }]
  validation:
    hostname: backend.internal
    caCertificateRefs: [{ group: "", kind: ConfigMap, name: backend-ca }]
`,
    );
    const withStatus = JSON.stringify(statuses.find((s) => s.kind === 'Gateway' && s.name === 'with'));
    assert.match(withStatus, /"type":"ResolvedRefs","status":"True"/, 'the client certificate resolves');
    // The Terminate listener's route points at the per-Gateway copy of the /tls cluster (backendtls-client.ts).
    const cert = Object.values(ir.clusters).find((c) => c.tls?.clientCertificate)?.tls?.clientCertificate;
    assert.equal(cert?.secret, 'default/client-cert');
    assert.equal(cert?.keyPem, pki.client.keyPem, 'the engine reads the sealed key');

    for (const p of ir.ports) servers.push(await createL4Server(p, ir.clusters));
    assert.equal(await fetchVia(withP, 'app.gw.example.com'), 'client=client.portico.test');
    assert.equal(await fetchVia(withoutP, 'app.gw.example.com'), '', 'no client certificate, no answer from the backend');
    assert.equal(backend.authorized(), 1);
  } finally {
    for (const s of servers) await s.close();
    await backend.close();
  }
});
