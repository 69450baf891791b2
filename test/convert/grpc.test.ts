// Real sockets for backend-protocol: GRPC: `portico run` serves the GRPCRoute convert made
// from an ingress-nginx gRPC Ingress (a path per service, a header canary), and grpc-js
// calls over h2c reach the backend ingress-nginx would have used.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import type { Resource } from '../../src/api/types.js';
import { convertIngresses } from '../../src/convert/index.js';
import type { Ingress } from '../../src/convert/types.js';
import { EchoClient, OtherClient, startEchoServer, type EchoReply, type EchoServer } from '../fixtures/grpc.js';
import { freePort } from '../dataplane/helpers.js';
import { start, type Running } from '../e2e/cli.js';

const INGRESSES = `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: grpc
  namespace: default
  creationTimestamp: "2024-01-01T00:00:00Z"
  annotations: { nginx.ingress.kubernetes.io/backend-protocol: GRPC }
spec:
  ingressClassName: nginx
  rules:
    - host: grpc.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: echo, port: { number: 50051 } } } }
          - { path: /portico.test.Other, pathType: Prefix, backend: { service: { name: other, port: { number: 50051 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: grpc-canary
  namespace: default
  creationTimestamp: "2024-02-01T00:00:00Z"
  annotations: { nginx.ingress.kubernetes.io/canary: "true", nginx.ingress.kubernetes.io/canary-by-header: x-canary }
spec:
  ingressClassName: nginx
  rules:
    - host: grpc.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: echo-canary, port: { number: 50051 } } } }
`;

const servers: Record<string, EchoServer> = {};
let run: Running;
let dir: string;
let port: number;

before(async () => {
  for (const name of ['echo', 'other', 'echo-canary']) servers[name] = await startEchoServer(name);
  port = await freePort();
  const ingresses = parseAllDocuments(INGRESSES).map((d) => d.toJS() as Ingress);
  const { resources, report } = convertIngresses({ ingresses }, { httpPort: port });
  assert.ok(report.every((e) => e.status === 'converted'), JSON.stringify(report));
  assert.deepEqual(resources.map((r) => r.kind), ['Gateway', 'GRPCRoute']);
  const cluster: Resource[] = [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'nginx' }, spec: { controllerName: 'portico.dev/gateway-controller' } }];
  for (const [name, s] of Object.entries(servers))
    cluster.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ name: 'grpc', port: 50051 }] } },
      { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'] }], ports: [{ name: 'grpc', port: s.port }] } as unknown as Resource,
    );
  dir = await mkdtemp(join(tmpdir(), 'portico-convert-grpc-'));
  await writeFile(join(dir, 'all.yaml'), [...resources, ...cluster].map((r) => `---\n${stringify(r)}`).join(''));
  run = start(['run', dir, '--workers', '1']);
  await run.waitFor(new RegExp(`HTTP +0\\.0\\.0\\.0:${port}`));
});

after(async () => {
  await run?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  for (const s of Object.values(servers)) await s.close();
});

function call(Client: grpc.ServiceClientConstructor, md: Record<string, string> = {}): Promise<EchoReply> {
  const c = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.example.com' });
  const meta = new grpc.Metadata();
  for (const [k, v] of Object.entries(md)) meta.set(k, v);
  return new Promise((resolve, reject) =>
    (c as unknown as { Unary(r: object, m: grpc.Metadata, cb: (e: Error | null, r: EchoReply) => void): void }).Unary({ message: 'hi' }, meta, (e, r) => {
      c.close();
      if (e) reject(e);
      else resolve(r);
    }),
  );
}

test('GRPCRoute from a gRPC Ingress: service paths and the header canary reach the backends ingress-nginx would use', async () => {
  assert.equal((await call(EchoClient)).backend, 'echo');
  assert.equal((await call(OtherClient)).backend, 'other', '/portico.test.Other became a service match');
  assert.equal((await call(EchoClient, { 'x-canary': 'always' })).backend, 'echo-canary');
  assert.equal((await call(EchoClient, { 'x-canary': 'never' })).backend, 'echo');
  assert.equal((await call(EchoClient, { 'x-canary': 'other' })).backend, 'echo');
  assert.deepEqual(servers.other!.calls, ['/portico.test.Other/Unary']);
});
