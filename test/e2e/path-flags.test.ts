// `portico run` and `portico controller` pass the path normalisation flags to the data plane
// (issue 10, defect 2): a bad value is a usage error naming the choices, and a good one changes
// what a real request gets. Dot segments are normalised whatever the flags say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { echoBackend, freePort, json, request } from '../dataplane/helpers.js';
import { portico, ROOT, start } from './cli.js';

test('a bad --path-* value is a usage error naming the valid ones', async () => {
  const run = await portico(['run', 'examples/', '--path-escaped-slashes', 'decode']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--path-escaped-slashes "decode": expected one of keep, reject, unescape-and-forward, unescape-and-redirect/);
  const ctl = await portico(['controller', '--dataplane', 'in-process', '--path-merge-slashes', 'yes']);
  assert.equal(ctl.code, 2);
  assert.match(ctl.stderr, /--path-merge-slashes "yes": expected one of keep, reject, merge-and-forward, merge-and-redirect/);
  const help = await portico(['run', '--help']);
  assert.match(help.stdout, /--path-escaped-slashes A .*\n.*default unescape-and-redirect/);
  assert.match(help.stdout, /--path-merge-slashes A .*\n.*default merge-and-forward/);
});

test('portico run --path-escaped-slashes reject --path-merge-slashes keep: the engine gets both', { timeout: 60_000 }, async (t) => {
  const backend = await echoBackend('b');
  const dir = await mkdtemp(join(tmpdir(), 'portico-path-flags-'));
  const port = await freePort();
  await copyFile(join(ROOT, 'examples', 'gatewayclass.yaml'), join(dir, 'gatewayclass.yaml'));
  await writeFile(
    join(dir, 'app.yaml'),
    `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  gatewayClassName: portico
  listeners: [{name: http, protocol: HTTP, port: ${port}}]
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: default}
spec: {ports: [{name: http, port: 80, targetPort: ${backend.port}}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: b-1, namespace: default, labels: {kubernetes.io/service-name: b}}
addressType: IPv4
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
ports: [{name: http, port: ${backend.port}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: default}
spec:
  parentRefs: [{name: web}]
  rules:
    - matches: [{path: {type: PathPrefix, value: /admin}}]
      filters: [{type: RequestRedirect, requestRedirect: {hostname: login.example, statusCode: 302}}]
    - backendRefs: [{name: b, port: 80}]
`,
  );
  const run = start(['run', dir, '--workers', '1', '--path-escaped-slashes', 'reject', '--path-merge-slashes', 'keep']);
  t.after(async () => {
    await run.stop('SIGKILL');
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  });
  await run.waitFor(new RegExp(`listening:\\n.*:${port}`));
  const admin = await request(port, '/x/../admin/secret', { agent: false });
  assert.equal(admin.status, 302, 'dot segments are always removed');
  assert.equal((await request(port, '/a%2Fb', { agent: false })).status, 400, '--path-escaped-slashes reject');
  assert.equal(json(await request(port, '/a//b', { agent: false })).url, '/a//b', '--path-merge-slashes keep');
  assert.equal(await run.stop('SIGINT'), 0, run.output());
});
