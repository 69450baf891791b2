// Real sockets for the TLS conversions: ssl-passthrough (a TLSRoute on a Passthrough
// listener: the client's TLS reaches the backend untouched, by SNI) and backend-protocol
// HTTPS with proxy-ssl-secret/-name/-verify (a BackendTLSPolicy: Portico speaks TLS to the
// backend and checks its certificate against the CA). Both served by `portico run` from
// what convertIngresses() printed.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { convertIngresses } from '../../src/convert/index.js';
import type { Ingress } from '../../src/convert/types.js';
import { pki } from '../fixtures/pki.js';
import { freePort } from '../dataplane/helpers.js';
import { start, type Running } from '../e2e/cli.js';

const INGRESSES = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: vault
  namespace: default
  annotations: { nginx.ingress.kubernetes.io/ssl-passthrough: "true" }
spec:
  ingressClassName: nginx
  rules:
    - host: vault.example.com
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: vault, port: { number: 8200 } } } }] }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: secure
  namespace: default
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    nginx.ingress.kubernetes.io/proxy-ssl-secret: default/backend-ca
    nginx.ingress.kubernetes.io/proxy-ssl-name: backend.internal
    nginx.ingress.kubernetes.io/proxy-ssl-verify: "on"
spec:
  ingressClassName: nginx
  rules:
    - host: secure.example.com
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: secure, port: { number: 8443 } } } }] }
`;

const backends: https.Server[] = [];
const seen: Record<string, string[]> = { vault: [], secure: [] };
let run: Running;
let dir: string;
let httpPort: number;
let httpsPort: number;

async function tlsBackend(name: string): Promise<number> {
  const s = https.createServer({ cert: pki.backend.certPem, key: pki.backend.keyPem }, (req, res) => {
    seen[name]!.push(`${req.headers.host} ${req.url}`);
    res.end(name);
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  backends.push(s);
  return (s.address() as AddressInfo).port;
}

before(async () => {
  httpPort = await freePort();
  httpsPort = await freePort();
  const ingresses = parseAllDocuments(INGRESSES).map((d) => d.toJS() as Ingress);
  const { resources } = convertIngresses({ ingresses }, { httpPort, httpsPort, emitGatewayClass: true });
  assert.deepEqual(resources.map((r) => r.kind).sort(), ['BackendTLSPolicy', 'Gateway', 'GatewayClass', 'HTTPRoute', 'HTTPRoute', 'TLSRoute']);
  const cluster: Resource[] = [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'backend-ca', namespace: 'default' }, data: { 'ca.crt': pki.caPem } } as unknown as Resource];
  for (const [name, port] of [['vault', 8200], ['secure', 8443]] as const)
    cluster.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'tls', port }] } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'] }], ports: [{ name: 'tls', port: await tlsBackend(name) }] } as unknown as Resource,
    );
  dir = await mkdtemp(join(tmpdir(), 'portico-convert-tls-'));
  await writeFile(join(dir, 'all.yaml'), [...resources, ...cluster].map((r) => `---\n${stringify(r)}`).join(''));
  run = start(['run', dir, '--workers', '1']);
  await run.waitFor(new RegExp(`TLS +0\\.0\\.0\\.0:${httpsPort}`));
  await run.waitFor(new RegExp(`HTTP +0\\.0\\.0\\.0:${httpPort}`));
});

after(async () => {
  await run?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  for (const s of backends) s.close();
});

test('ssl-passthrough: TLS by SNI reaches the backend, which presents its own certificate', async () => {
  const { body, issuer } = await new Promise<{ body: string; issuer: string }>((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: httpsPort, path: '/x', servername: 'vault.example.com', headers: { host: 'vault.example.com' }, ca: pki.caPem, checkServerIdentity: () => undefined, agent: false }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ body: b, issuer: (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subjectaltname ?? '' }));
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(body, 'vault');
  assert.match(issuer, /DNS:backend\.internal/, 'the certificate is the backend\'s: Portico did not terminate');
  assert.deepEqual(seen.vault, ['vault.example.com /x']);
});

test('backend-protocol HTTPS + proxy-ssl-*: BackendTLSPolicy makes Portico speak verified TLS to the backend', async () => {
  const body = await new Promise<string>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: httpPort, path: '/hello', headers: { host: 'secure.example.com' }, agent: false }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(`${res.statusCode} ${b}`));
    }).on('error', reject);
  });
  assert.equal(body, '200 secure');
  assert.deepEqual(seen.secure, ['secure.example.com /hello']);
});
