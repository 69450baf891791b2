// Issue 10, defect 1, file mode: `portico run` with every kind of key the IR carries (HTTPS and
// TLS listener certificates, a Gateway backend client certificate under a BackendTLSPolicy, and
// a Secret with a PEM where base64 belongs), two workers (the keys cross the IPC channel):
// traffic proves the engine has the keys; no admin reply on either listener, no log line, and
// no `portico check` output holds any of them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { pki } from '../fixtures/pki.js';
import { assertNoKeyMaterial, fingerprintOf, tlsGatewayObjects } from '../fixtures/secrets.js';
import { portico, start } from './cli.js';
import { freePort } from '../dataplane/helpers.js';

/** GET over TLS (CA-verified) with the SNI given; resolves status and body. */
function tlsGet(port: number, servername: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, servername, ca: pki.caPem, headers: { host: servername }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

let dir: string;
let backend: https.Server;
let backendPort: number;

before(async () => {
  // The BackendTLSPolicy's backend: presents pki.backend and requires a client certificate from the test CA.
  backend = https.createServer({ cert: pki.backend.certPem, key: pki.backend.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.end(`backend saw client ${peer.subject?.CN ?? 'none'}\n`);
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
  backendPort = (backend.address() as AddressInfo).port;
  dir = await mkdtemp(join(tmpdir(), 'portico-secrets-'));
});
after(async () => {
  backend?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('portico run: no admin reply, log line or check output carries a private key; the engine still has them', { timeout: 120_000 }, async () => {
  const ports = { https: await freePort(), tls: await freePort(), http: await freePort() };
  const objs = [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: 'portico.dev/gateway-controller' } },
    ...tlsGatewayObjects({ namespace: 'default', gatewayClassName: 'portico', ports, backend: { address: '127.0.0.1', port: backendPort }, withMalformedSecret: true }),
  ];
  await writeFile(join(dir, 'gateway.yaml'), objs.map((o) => YAML.stringify(o)).join('---\n'));

  // A config-revealing admin on a non-loopback address is refused (exit 2, before anything is served).
  const refused = await portico(['run', dir, '--admin', '0.0.0.0:0']);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /not a loopback address/);

  const run = start(['run', dir, '--workers', '2', '--admin', '127.0.0.1:0', '--health', '127.0.0.1:0', '--access-log']);
  try {
    const [, adminPort] = await run.waitFor(/admin on http:\/\/127\.0\.0\.1:(\d+)/, 60_000);
    const [, healthPort] = await run.waitFor(/health on http:\/\/127\.0\.0\.1:(\d+)/, 60_000);

    // The workers have the keys: TLS terminates with the listener certificate, and the backend
    // accepts the Gateway's client certificate.
    const viaHttps = await tlsGet(ports.https, 'a.gw.example.com');
    assert.deepEqual(viaHttps, { status: 200, body: 'backend saw client client.portico.test\n' });
    const viaHttp = await fetch(`http://127.0.0.1:${ports.http}/`);
    assert.equal(await viaHttp.text(), 'backend saw client client.portico.test\n');

    const admin = `http://127.0.0.1:${adminPort}`;
    const health = `http://127.0.0.1:${healthPort}`;
    const paths = ['/healthz', '/readyz', '/ir', '/status', '/metrics', '/nope'];
    for (const base of [admin, health]) {
      for (const p of paths) assertNoKeyMaterial(await (await fetch(base + p)).text(), `GET ${base}${p}`);
    }
    const ir = await (await fetch(`${admin}/ir`)).text();
    assert.equal(ir.split(fingerprintOf(pki.gateway.certPem)).length - 1, 2, 'both listener certificates shown by fingerprint');
    assert.ok(ir.includes(fingerprintOf(pki.client.certPem)), 'the backend client certificate shown by fingerprint');
    const status = (await (await fetch(`${admin}/status`)).json()) as { problems: { text: string }[] };
    assert.ok(status.problems.some((p) => /pem-in-data.*characters, not shown/.test(p.text)), JSON.stringify(status.problems));
    for (const p of ['/ir', '/status']) assert.equal((await fetch(health + p)).status, 404, `health listener must not serve ${p}`);
    assert.equal((await fetch(`${health}/healthz`)).status, 200);
  } finally {
    assert.equal(await run.stop(), 0);
  }
  assertNoKeyMaterial(run.output(), 'portico run stdout/stderr');

  for (const args of [['check', dir], ['check', dir, '--output', 'yaml']]) {
    const r = await portico(args);
    assert.equal(r.code, 1, 'the malformed Secret makes check fail'); // and nothing it prints holds a key
    assertNoKeyMaterial(r.stdout + r.stderr, `portico ${args.join(' ')}`);
  }
});
