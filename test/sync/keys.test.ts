// Key material over the config stream: a translated Gateway with every key-carrying IR field
// (HTTPS and TLS listener certificates, a backend client certificate under a BackendTLSPolicy)
// is published by a SyncServer; `portico dataplane --workers 2` must terminate TLS with the
// listener key and present the client key to the backend (so the keys crossed the stream and
// the worker IPC), while no line it logs holds a key.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Resource } from '../../src/api/types.js';
import type { IR } from '../../src/ir/types.js';
import { Snapshot } from '../../src/store/snapshot.js';
import { deriveGatewayKey } from '../../src/sync/credentials.js';
import { translate } from '../../src/translate/index.js';
import { pki } from '../fixtures/pki.js';
import { assertNoKeyMaterial, tlsGatewayObjects } from '../fixtures/secrets.js';
import { freePort } from '../dataplane/helpers.js';
import { start } from '../e2e/cli.js';
import { credentialsDir, master, startServer, until } from './helpers.js';

let backend: https.Server;
let backendPort: number;

before(async () => {
  backend = https.createServer({ cert: pki.backend.certPem, key: pki.backend.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.end(`backend saw client ${(req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? 'none'}\n`);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  backendPort = (backend.address() as AddressInfo).port;
});
after(() => backend.close());

function tlsGet(port: number, servername: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path: '/', servername, ca: pki.caPem, headers: { host: servername }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('listener and backend client keys reach a 2-worker data plane over the stream, and never its logs', { timeout: 60_000 }, async () => {
  const ports = { https: await freePort(), tls: await freePort(), http: await freePort() };
  const objs = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
    ...tlsGatewayObjects({ namespace: 'team-a', gatewayClassName: 'portico', ports, backend: { address: '127.0.0.1', port: backendPort } }),
  ];
  const ir: IR = translate(new Snapshot(objs.map((o) => ({ resource: o as unknown as Resource, origin: 'test' }))), { addressFor: () => '127.0.0.1' }).ir;
  assert.equal(ir.ports.length, 3);
  const gateway = 'team-a/secure';
  const { server, port } = await startServer({ keyFor: (g) => (g === gateway ? deriveGatewayKey(master, g) : undefined) });
  server.publish(ir);
  const dp = start(['dataplane', `--controller=127.0.0.1:${port}`, `--gateway=${gateway}`, `--credentials=${credentialsDir(deriveGatewayKey(master, gateway))}`, '--workers=2', '--drain-delay=0s', '--drain-timeout=2s']);
  try {
    await dp.waitFor(/applied version 1 /, 30_000);
    assert.deepEqual(await tlsGet(ports.https, 'a.gw.example.com'), { status: 200, body: 'backend saw client client.portico.test\n' });
    const viaHttp = await fetch(`http://127.0.0.1:${ports.http}/`);
    assert.equal(await viaHttp.text(), 'backend saw client client.portico.test\n');
    await until(() => server.status(gateway).clients[0]?.acked?.version === 1, 'ack');
  } finally {
    assert.equal(await dp.stop(), 0);
    await server.close();
  }
  assertNoKeyMaterial(dp.output(), 'portico dataplane stdout/stderr');
});
