// `portico run` serving an Ingress and an HTTPRoute side by side (issue 14, "serve both"):
// real sockets, real echo backends. With --ingress-gateway both share the user's Gateway
// listener; without it the Ingress gets its own generated Gateway on --ingress-http-port.
// Deleting the Ingress file then stops its host, the HTTPRoute keeps serving.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackends, type Echo, type RunningBackends } from '../../examples/backends.js';
import { portico, start } from './cli.js';
import { freePort } from '../dataplane/helpers.js';
import { pki } from '../fixtures/pki.js';
import { assertNoKeyMaterial } from '../fixtures/secrets.js';

let backends: RunningBackends;
let dir: string;
before(async () => {
  backends = await startBackends({ legacy: 0, next: 0 });
  dir = await mkdtemp(join(tmpdir(), 'portico-ingress-'));
});
after(async () => {
  await backends?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function get(port: number, host: string, path = '/'): Promise<{ status: number; backend?: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, backend: res.headers['content-type']?.includes('json') ? (JSON.parse(body) as Echo).backend : undefined }));
    });
    r.on('error', reject);
    r.end();
  });
}

const service = (name: string, port: number) => `
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-1, namespace: shop, labels: {kubernetes.io/service-name: ${name}}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: ${port}}]
`;

async function writeManifests(gatewayPort: number): Promise<void> {
  await writeFile(
    join(dir, 'gateway.yaml'),
    `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: portico}
spec: {controllerName: portico.dev/gateway-controller}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: portico}
spec: {controller: portico.dev/ingress-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: shop}
spec:
  gatewayClassName: portico
  listeners: [{name: http, protocol: HTTP, port: ${gatewayPort}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: next, namespace: shop}
spec:
  parentRefs: [{name: web}]
  hostnames: [next.example.com]
  rules: [{backendRefs: [{name: next, port: 80}]}]
---${service('legacy', backends.ports.legacy!)}---${service('next', backends.ports.next!)}`,
  );
  await writeFile(
    join(dir, 'ingress.yaml'),
    `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: legacy
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/server-snippet: "return 200;"
spec:
  ingressClassName: portico
  rules:
  - host: legacy.example.com
    http:
      paths:
      - {path: /app, pathType: Prefix, backend: {service: {name: legacy, port: {name: http}}}}
`,
  );
}

test('--ingress-gateway: the Ingress host and the HTTPRoute host on one listener; deleting the Ingress leaves the HTTPRoute', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  await writeManifests(port);
  const run = start(['run', dir, '--workers', '1', '--ingress-gateway', 'shop/web', '--ingress-http-port', String(port), '--admin', `127.0.0.1:${adminPort}`]);
  try {
    await run.waitFor(/admin on /);
    assert.match(run.output(), /Ingress shop\/legacy: server-snippet: not-converted/);
    // The admin API's /status says which Ingress is served by what, with its report and status.loadBalancer.
    const status = (await (await fetch(`http://127.0.0.1:${adminPort}/status`)).json()) as {
      statuses: { kind: string; name: string; status: unknown }[];
      ingresses?: { served: { name: string; gateway: { name: string } }[]; report: { item: string; status: string }[] };
    };
    assert.deepEqual(status.ingresses?.served.map((s) => `${s.name}->${s.gateway.name}`), ['legacy->web']);
    assert.ok(status.ingresses?.report.some((e) => e.item === 'server-snippet' && e.status === 'not-converted'));
    assert.deepEqual(status.statuses.find((s) => s.kind === 'Ingress')?.status, { loadBalancer: { ingress: [{ ip: '0.0.0.0' }] } });
    assert.deepEqual(await get(port, 'legacy.example.com', '/app/x'), { status: 200, backend: 'legacy' });
    assert.equal((await get(port, 'legacy.example.com', '/other')).status, 404, 'Prefix /app only');
    assert.deepEqual(await get(port, 'next.example.com'), { status: 200, backend: 'next' });
    const mark = run.output().length;
    await rm(join(dir, 'ingress.yaml'));
    await run.waitFor(/listening:/, 20_000, mark);
    assert.equal((await get(port, 'legacy.example.com', '/app/x')).status, 404);
    assert.deepEqual(await get(port, 'next.example.com'), { status: 200, backend: 'next' });
  } finally {
    await run.stop();
  }
});

test('default: a generated Gateway serves the Ingress on --ingress-http-port, the user Gateway its HTTPRoute on its own port', async () => {
  const port = await freePort();
  const ingressPort = await freePort();
  await writeManifests(port);
  const run = start(['run', dir, '--workers', '1', '--ingress-http-port', String(ingressPort)]);
  try {
    await run.waitFor(/listening:/);
    assert.match(run.output(), new RegExp(`:${ingressPort}\\s+shop/portico-ingress-portico/http`));
    assert.deepEqual(await get(ingressPort, 'legacy.example.com', '/app'), { status: 200, backend: 'legacy' });
    assert.deepEqual(await get(port, 'next.example.com'), { status: 200, backend: 'next' });
    assert.equal((await get(port, 'legacy.example.com', '/app')).status, 404, 'not on the user Gateway');
  } finally {
    await run.stop();
  }
});

test('portico check: each served Ingress with its Gateway, address and report lines; an Ingress host no listener takes fails the check', async () => {
  const ok = await portico(['check', 'test/convert/serve/base.yaml', '--ingress-gateway', 'shop/web', '--ingress-http-port', '8080']);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /Ingress shop\/old-web {2}\(test\/convert\/serve\/base\.yaml:\d+\)\n {2}IngressClass portico, served by Gateway shop\/web, status\.loadBalancer: 0\.0\.0\.0\n {2}not-converted {2}configuration-snippet: /);
  assert.doesNotMatch(ok.stdout, /Ingress shop\/theirs/, 'another controller\'s IngressClass');
  const bad = await portico(['check', 'test/convert/serve/base.yaml', '--ingress-gateway', 'shop/web']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /not-converted {2}HTTPRoute portico-ingress-old-web-www-example-com: host www\.example\.com is not served: Accepted False NoMatchingParent/);
  assert.match(bad.stdout, /FAILED: .*2 Ingress hosts not served/);
  const off = await portico(['check', 'test/convert/serve/base.yaml', '--ingress-controller', 'none']);
  assert.equal(off.code, 0);
  assert.doesNotMatch(off.stdout, /^Ingress /m);
});

test('default mode with spec.tls: the generated Gateway terminates HTTPS with the Ingress Secret, HTTP redirects (ssl-redirect)', async () => {
  const port = await freePort();
  const httpPort = await freePort();
  const httpsPort = await freePort();
  await writeManifests(port);
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  await writeFile(
    join(dir, 'ingress.yaml'),
    `apiVersion: v1
kind: Secret
metadata: {name: app-cert, namespace: shop}
type: kubernetes.io/tls
data: {tls.crt: ${b64(pki.gateway.certPem)}, tls.key: ${b64(pki.gateway.keyPem)}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: legacy, namespace: shop}
spec:
  ingressClassName: portico
  tls: [{hosts: [app.gw.example.com], secretName: app-cert}]
  rules:
  - host: app.gw.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: legacy, port: {number: 80}}}}
`,
  );
  const run = start(['run', dir, '--workers', '1', '--ingress-http-port', String(httpPort), '--ingress-https-port', String(httpsPort)]);
  try {
    await run.waitFor(/listening:/);
    const tls = await new Promise<{ status: number; backend: string; peer: string }>((resolve, reject) => {
      const r = https.request({ host: '127.0.0.1', port: httpsPort, path: '/x', servername: 'app.gw.example.com', headers: { host: 'app.gw.example.com' }, ca: pki.caPem, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, backend: (JSON.parse(body) as Echo).backend, peer: (res.socket as import('node:tls').TLSSocket).getPeerCertificate().subjectaltname ?? '' }));
      });
      r.on('error', reject);
      r.end();
    });
    assert.deepEqual({ status: tls.status, backend: tls.backend }, { status: 200, backend: 'legacy' });
    assert.match(tls.peer, /gw\.example\.com/, 'the Ingress Secret\'s certificate');
    const plain = await new Promise<{ status: number; location?: string }>((resolve, reject) => {
      const r = http.request({ host: '127.0.0.1', port: httpPort, path: '/x', headers: { host: 'app.gw.example.com' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, location: res.headers.location }));
      });
      r.on('error', reject);
      r.end();
    });
    assert.deepEqual(plain, { status: 308, location: `https://app.gw.example.com:${httpsPort}/x` });
    assertNoKeyMaterial(run.output(), 'portico run output');
  } finally {
    await run.stop();
  }
});
