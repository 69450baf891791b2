import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';
import { portico } from './cli.js';

test('portico check examples/ exits 0 and lists every Gateway and route as accepted', async () => {
  const r = await portico(['check', 'examples/']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  for (const name of ['Gateway default/web', 'HTTPRoute default/canary', 'HTTPRoute default/header-routing', 'HTTPRoute default/redirect', 'HTTPRoute default/rewrite', 'GatewayClass portico'])
    assert.match(r.stdout, new RegExp(`^${name}  \\(examples/`, 'm'), name);
  assert.match(r.stdout, /parent Gateway default\/web\s+Accepted\s+True\s+Accepted/);
  assert.match(r.stdout, /^OK: \d+ objects checked/m);
  assert.doesNotMatch(r.stdout, /✗/);
});

test('portico check fails with NotAllowedByListeners when the listener does not allow the route namespace', async () => {
  const r = await portico(['check', 'test/e2e/testdata/not-allowed']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /HTTPRoute team-b\/app/);
  assert.match(r.stdout, /parent Gateway infra\/shared\s+Accepted\s+False ✗\s+NotAllowedByListeners/);
  assert.match(r.stdout, /^FAILED: 1 object with a condition not True/m);
});

test('portico check fails on an invalid manifest, naming file:line, kind, field and what is allowed', async () => {
  const r = await portico(['check', 'test/e2e/testdata/invalid']);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /error: test\/e2e\/testdata\/invalid\/route\.yaml:19: HTTPRoute default\/typo: spec\.rules\[0\]\.matches\[0\]\.path\.value: must be an absolute path and start with '\/'/,
  );
  assert.match(r.stdout, /FAILED: .*1 invalid manifest problem/);
});

test('portico check --output yaml prints the objects with the status Kubernetes would store', async () => {
  const r = await portico(['check', '--output', 'yaml', 'test/e2e/testdata/not-allowed']);
  assert.equal(r.code, 1);
  const docs = parseAllDocuments(r.stdout).map((d) => d.toJS());
  const route = docs.find((d) => d.kind === 'HTTPRoute');
  assert.ok(route, r.stdout);
  assert.equal(route.metadata.name, 'app');
  const parent = route.status.parents[0];
  assert.equal(parent.controllerName, 'portico.dev/gateway-controller');
  const accepted = parent.conditions.find((c: { type: string }) => c.type === 'Accepted');
  assert.equal(accepted.status, 'False');
  assert.equal(accepted.reason, 'NotAllowedByListeners');
  assert.match(accepted.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(accepted.observedGeneration, 1);
  const gw = docs.find((d) => d.kind === 'Gateway');
  assert.ok(gw.status.conditions.every((c: { lastTransitionTime?: string }) => c.lastTransitionTime));
  assert.equal(gw.status.listeners[0].attachedRoutes, 0);
});

test('usage errors exit 2; help and version exit 0', async () => {
  assert.equal((await portico(['check'])).code, 2);
  assert.equal((await portico(['check', '--output', 'json', 'examples/'])).code, 2);
  assert.equal((await portico(['frobnicate'])).code, 2);
  assert.equal((await portico(['run', '--workers', 'zero', 'examples/'])).code, 2);
  const v = await portico(['version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, /^portico \d+\.\d+\.\d+ \(node v/);
  for (const cmd of [['--help'], ['run', '--help'], ['check', '--help'], ['version', '--help']]) {
    const h = await portico(cmd);
    assert.equal(h.code, 0, cmd.join(' '));
    assert.match(h.stdout, /usage: portico/);
  }
});

test('kinds Portico does not read are warnings: printed, but check still passes', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-check-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const f of ['gatewayclass.yaml', 'web-gateway.yaml', 'web-backends.yaml', 'http-canary.yaml']) await copyFile(join(ROOT, 'examples', f), join(dir, f));
  await writeFile(join(dir, 'app.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: echo\nspec: {}\n');
  const r = await portico(['check', dir]);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /warning: .*app\.yaml:1: Deployment default\/echo: ignored: Portico does not read kind Deployment/);
  assert.match(r.stdout, /^OK: /m);
});

test("portico check - reads manifests from standard input, naming them stdin:line", async () => {
  const text = await readFile(join(ROOT, 'test/e2e/testdata/not-allowed/manifests.yaml'), 'utf8');
  const bad = await portico(['check', '-'], 30_000, text);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /HTTPRoute team-b\/app  \(stdin:\d+\)/);
  assert.match(bad.stdout, /NotAllowedByListeners/);
});

test('portico check --dataplane provisioned: two Gateways on one port conflict only with the shared in-process data plane', async () => {
  const gateway = (ns: string) =>
    `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: ${ns}}\nspec: {gatewayClassName: portico, listeners: [{name: http, port: 80, protocol: HTTP}]}\n`;
  const text = ['apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: portico}\nspec: {controllerName: portico.dev/gateway-controller}\n', gateway('one'), gateway('two')].join('---\n');
  const shared = await portico(['check', '-'], 30_000, text);
  assert.equal(shared.code, 1, shared.stdout);
  assert.match(shared.stdout, /HostnameConflict/);
  const own = await portico(['check', '--dataplane', 'provisioned', '-'], 30_000, text);
  assert.equal(own.code, 0, own.stdout + own.stderr);
  const bad = await portico(['check', '--dataplane', 'merged', '-'], 30_000, text);
  assert.equal(bad.code, 2);
});

// GatewayParameters in the files: validated like every manifest (file:line, field, fix), and with
// --dataplane provisioned their mergeGateways puts a GatewayClass's Gateways on one data plane.
const mergingClass = (mergeGateways: boolean, extra = '') =>
  [
    'apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: portico}\nspec:\n  controllerName: portico.dev/gateway-controller\n  parametersRef: {group: gateway.portico.dev, kind: GatewayParameters, name: shared, namespace: portico-system}\n',
    `apiVersion: gateway.portico.dev/v1alpha1\nkind: GatewayParameters\nmetadata: {name: shared, namespace: portico-system}\nspec:\n  mergeGateways: ${mergeGateways}\n${extra}`,
    ...['one', 'two'].map(
      (ns) => `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: ${ns}}\nspec: {gatewayClassName: portico, listeners: [{name: http, port: 80, protocol: HTTP}]}\n`,
    ),
  ].join('---\n');

test('portico check --dataplane provisioned: GatewayParameters mergeGateways makes the class\'s Gateways conflict on a shared port', async () => {
  const merged = await portico(['check', '--dataplane', 'provisioned', '-'], 30_000, mergingClass(true));
  assert.equal(merged.code, 1, merged.stdout + merged.stderr);
  assert.match(merged.stdout, /Gateway two\/gw[\s\S]*HostnameConflict/);
  assert.doesNotMatch(merged.stdout, /Portico does not read kind GatewayParameters/);
  const own = await portico(['check', '--dataplane', 'provisioned', '-'], 30_000, mergingClass(false));
  assert.equal(own.code, 0, own.stdout + own.stderr);
  assert.doesNotMatch(own.stdout, /HostnameConflict/);
});

test('portico check reports an invalid GatewayParameters with file:line, field and what is allowed', async () => {
  const text = mergingClass(false, '  service: {type: Internal}\n  deployment: {resources: {requests: {cpu: lots}}}\n  podDisruptionBudget: {enabled: true, minAvailable: 1, maxUnavailable: 1}\n');
  const r = await portico(['check', '-'], 30_000, text);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /error: stdin:\d+: GatewayParameters portico-system\/shared: spec\.service\.type: .*LoadBalancer/);
  assert.match(r.stdout, /error: stdin:\d+: GatewayParameters portico-system\/shared: spec\.deployment\.resources\.requests\.cpu: 'lots' is not a Kubernetes quantity; write it like '250m'/);
  assert.match(r.stdout, /error: stdin:\d+: GatewayParameters portico-system\/shared: spec\.podDisruptionBudget: set minAvailable or maxUnavailable, not both/);
  assert.match(r.stdout, /FAILED: .*3 invalid manifest problems/);
});
