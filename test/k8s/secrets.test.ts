// Issue 10, defect 1, Kubernetes mode: the real `portico controller` command against the real
// local API server, serving a Gateway with HTTPS and TLS listeners and a backend client
// certificate under a BackendTLSPolicy. Traffic shows the engine has every key; no admin reply
// (admin and health listener, every endpoint) and no line the process prints holds one; a
// non-loopback --admin is refused.
//
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/secrets.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { pki } from '../fixtures/pki.js';
import { assertNoKeyMaterial, fingerprintOf, tlsGatewayObjects } from '../fixtures/secrets.js';
import { portico, start, type Running } from '../e2e/cli.js';
import { apply, getObj, installGatewayApiCrds, kubeConfigFrom, remove, waitFor } from './helpers.js';
import { freePort } from '../dataplane/helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/secrets.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');

const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const NS = `portico-secrets-${RUN}`;
const CLASS = `portico-secrets-${RUN}`;
const CONTROLLER = `portico.dev/secrets-test-${RUN}`;
const GROUP = 'gateway.networking.k8s.io';
const PORTS = { https: 18443, tls: 18444, http: 18081 };
// The API server refuses loopback addresses in EndpointSlices: the backend listens on this machine's own address.
const HOST_IP = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal && !i.address.startsWith('169.254.'))?.address;

function tlsGet(host: string, port: number, servername: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host, port, path: '/', servername, ca: pki.caPem, headers: { host: servername }, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('portico controller: no private key in any admin reply or log line', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset' }, () => {
  let client: ApiClient;
  let backend: https.Server | undefined;
  let objects: Record<string, unknown>[] = [];
  let run: Running | undefined;

  /** The version the API server serves for a Gateway API kind (TLSRoute and BackendTLSPolicy moved between releases). */
  async function servedVersion(plural: string): Promise<string> {
    const group = (await client.request('GET', `/apis/${GROUP}`)).body as { versions: { version: string }[] };
    for (const { version } of group.versions) {
      const list = (await client.request('GET', `/apis/${GROUP}/${version}`)).body as { resources: { name: string }[] };
      if (list.resources.some((r) => r.name === plural)) return `${GROUP}/${version}`;
    }
    throw new Error(`${plural} not served`);
  }

  before(async () => {
    client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    await installGatewayApiCrds(client);
    backend = https.createServer({ cert: pki.backend.certPem, key: pki.backend.keyPem, ca: pki.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      res.end(`backend saw client ${(req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? 'none'}\n`);
    });
    await new Promise<void>((r) => backend!.listen(0, HOST_IP ?? '127.0.0.1', () => r()));
    const version = { TLSRoute: await servedVersion('tlsroutes'), BackendTLSPolicy: await servedVersion('backendtlspolicies') };
    objects = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: CLASS }, spec: { controllerName: CONTROLLER } },
      ...tlsGatewayObjects({ namespace: NS, gatewayClassName: CLASS, ports: PORTS, backend: { address: HOST_IP ?? '192.0.2.1', port: (backend.address() as AddressInfo).port } }).map((o) =>
        o.kind === 'TLSRoute' || o.kind === 'BackendTLSPolicy' ? { ...o, apiVersion: version[o.kind] } : o,
      ),
    ];
    for (const o of objects) await apply(client, o as Parameters<typeof apply>[1]);
  });

  after(async () => {
    await run?.stop();
    backend?.close();
    if (!client) return;
    for (const o of [...objects].reverse()) {
      if (o.kind === 'Namespace' || o.kind === 'GatewayClass') await remove(client, o as Parameters<typeof remove>[1]).catch(() => {});
    }
  });

  test('a non-loopback --admin is refused before anything starts', async () => {
    const r = await portico(['controller', '--kubeconfig', KUBECONFIG!, '--controller-name', CONTROLLER, '--admin', '0.0.0.0:0']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /not a loopback address/);
  });

  test('TLS Gateway served; /ir shows fingerprints; no reply, no log line holds a key', { timeout: 120_000 }, async () => {
    const [adminPort, healthPort] = [await freePort(), await freePort()];
    run = start([
      'controller', '--kubeconfig', KUBECONFIG!, '--controller-name', CONTROLLER, '--dataplane', 'in-process', '--gateway-address-mode', 'loopback',
      '--gateway-address-range', '127.91.0.0/16', '--admin', `127.0.0.1:${adminPort}`, '--health', `127.0.0.1:${healthPort}`,
      '--debounce', '50ms', '--access-log',
    ]);
    const admin = `http://127.0.0.1:${adminPort}`;
    const health = `http://127.0.0.1:${healthPort}`;
    const ir = await waitFor('the IR with both certificates', async () => {
      const r = await fetch(`${admin}/ir`).catch(() => undefined);
      const text = r?.ok ? await r.text() : '';
      return text.includes(fingerprintOf(pki.gateway.certPem)) && text.includes(fingerprintOf(pki.client.certPem)) ? text : undefined;
    }, 60_000);
    assert.equal(ir.split(fingerprintOf(pki.gateway.certPem)).length - 1, 2, 'the HTTPS and the TLS listener certificate');
    const gw = await waitFor('Gateway Programmed with an address', async () => {
      const g = await getObj<{ status?: { addresses?: { value: string }[]; conditions?: { type: string; status: string }[] } }>(client, {
        apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'secure', namespace: NS },
      });
      return g?.status?.conditions?.some((c) => c.type === 'Programmed' && c.status === 'True') && g.status.addresses?.[0] ? g.status.addresses[0].value : undefined;
    }, 60_000);

    if (HOST_IP) {
      // The engine has the listener key (handshake) and the client key (the backend requires it).
      const r = await waitFor('HTTPS through the Gateway to the backend', () => tlsGet(gw, PORTS.https, 'a.gw.example.com').catch(() => undefined), 30_000);
      assert.deepEqual(r, { status: 200, body: 'backend saw client client.portico.test\n' });
    }

    for (const base of [admin, health]) {
      for (const p of ['/healthz', '/readyz', '/ir', '/status', '/metrics', '/nope']) assertNoKeyMaterial(await (await fetch(base + p)).text(), `GET ${base}${p}`);
    }
    assert.equal((await fetch(`${health}/ir`)).status, 404, 'the health listener does not serve /ir');
    assert.equal((await fetch(`${health}/readyz`)).status, 200);
    assert.equal((await fetch(`${health}/metrics`)).status, 200);

    assert.equal(await run.stop(), 0);
    assertNoKeyMaterial(run.output(), 'portico controller stdout/stderr');
    assert.match(run.output(), /admin endpoint on 127\.0\.0\.1/);
    run = undefined;
  });
});
