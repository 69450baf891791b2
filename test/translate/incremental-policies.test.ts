// Policy changes spliced into the last translation (translate/splice-policies.ts). A
// BackendTLSPolicy's rotated CA bundle or new SNI: the routes are kept as the same objects, the
// clusters take the new TLS settings; a change to what routes read of it (it becomes unusable) is
// a full translation. A traffic policy's session persistence and retry budget: its Service's
// cluster and the routes naming it are made again, the others kept. Each result equals a full
// translate().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '../../src/api/types.js';
import { Snapshot } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { incrementalTranslate } from '../../src/translate/incremental.js';
import type { TranslateResult } from '../../src/translate/types.js';
import { load } from './golden-input.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const keyOf = (r: Resource) => `${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`;

/** Golden case `name` (over _base.yaml, with `extra`) as objects to edit; `run` translates them incrementally and checks the result against a full translate(). */
function editable(name: string, extra: Resource[] = []) {
  const base = load(join(DIR, '_base.yaml'));
  const input = load(join(DIR, `${name}.in.yaml`));
  const objects = new Map<string, Resource>();
  for (const r of [...base.entries.map((e) => e.resource), ...input.entries.map((e) => e.resource), ...extra]) objects.set(keyOf(r), r);
  const inc = incrementalTranslate(translate);
  const run = (what: string): TranslateResult => {
    const snapshot = new Snapshot([...objects.values()].map((resource) => ({ resource })));
    const got = inc(snapshot, input.options);
    assert.deepStrictEqual(got, translate(snapshot, input.options), what);
    return got;
  };
  return { objects, inc, run };
}

test('a rotated CA bundle and a new SNI reach the clusters; routes, their statuses and the listeners stay the same objects', () => {
  const { objects, inc, run } = editable('backendtlspolicy-configmap-ca');
  const tlsCluster = (r: TranslateResult) => Object.values(r.ir.clusters).find((c) => c.name === 'default/secure:443/tls')!;
  const routeStatus = (r: TranslateResult) => r.statuses.find((s) => s.kind === 'HTTPRoute' && s.name === 'web');
  const first = run('start');
  assert.ok(tlsCluster(first).tls?.caPem?.includes('BEGIN CERTIFICATE'));

  // The ConfigMap's bundle gains a certificate (the same one again: still a valid bundle, other bytes).
  const cm = objects.get('ConfigMap/default/backend-ca') as Resource & { data: Record<string, string> };
  const pem = cm.data['ca.crt']!;
  objects.set(keyOf(cm), { ...cm, data: { ...cm.data, 'ca.crt': pem + pem } } as Resource);
  const rotated = run('CA bundle rotated');
  assert.equal(inc.stats.policiesSpliced, 1);
  assert.equal(inc.stats.full, 1);
  assert.equal(tlsCluster(rotated).tls!.caPem!.split('BEGIN CERTIFICATE').length - 1, 2);
  assert.equal(routeStatus(rotated), routeStatus(first), 'the route status is the same object');
  assert.equal(rotated.ir.ports[0], first.ir.ports[0], 'the ports (listeners, routes) are the same objects');

  // A new SNI.
  const policy = objects.get('BackendTLSPolicy/default/secure-tls') as Resource & { spec: { validation: { hostname: string } } };
  objects.set(keyOf(policy), { ...policy, spec: { ...policy.spec, validation: { ...policy.spec.validation, hostname: 'other.internal.example' } } } as Resource);
  const renamed = run('SNI changed');
  assert.equal(inc.stats.policiesSpliced, 2);
  assert.equal(tlsCluster(renamed).tls!.sni, 'other.internal.example');
  assert.equal(routeStatus(renamed), routeStatus(first));

  // The bundle loses its certificate: the policy is no longer usable, which routes read (their backend's error).
  objects.set(keyOf(cm), { ...cm, data: {} } as Resource);
  run('CA bundle gone');
  assert.equal(inc.stats.policiesSpliced, 2);
  assert.equal(inc.stats.full, 2);
});

test("a traffic policy's session persistence and retry budget reach its Service's cluster and the routes that name it; other routes stay the same objects", () => {
  const other = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'other', namespace: 'default' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { value: '/other' } }], backendRefs: [{ name: 'echo', port: 80 }] }] },
  } as unknown as Resource;
  const { objects, inc, run } = editable('xbackendtrafficpolicy', [other]);
  const entries = (r: TranslateResult) => r.ir.ports.flatMap((p) => p.listeners.flatMap((l) => (l.virtualHosts ?? []).flatMap((v) => v.routes)));
  const entry = (r: TranslateResult, name: string, rule: number) => entries(r).find((e) => e.source.name === name && e.source.rule === rule)!;
  const status = (r: TranslateResult, name: string) => r.statuses.find((s) => s.kind === 'HTTPRoute' && s.name === name);
  const first = run('start');

  const policy = objects.get('XBackendTrafficPolicy/default/foo-sticky') as Resource & { spec: Record<string, unknown> };
  objects.set(keyOf(policy), {
    ...policy,
    spec: { ...policy.spec, sessionPersistence: { sessionName: 'renamed-session', absoluteTimeout: '10m', idleTimeout: '1m' }, retryConstraint: { budget: { percent: 40, interval: '30s' } } },
  } as Resource);
  const changed = run('session and budget changed');
  assert.equal(inc.stats.policiesSpliced, 1);
  assert.equal(inc.stats.full, 1);
  assert.equal(changed.ir.clusters['default/foo:80']!.retryBudget?.percent, 40);
  assert.ok(JSON.stringify(entry(changed, 'web', 0)).includes('renamed-session'), 'the route naming foo carries the new session name');
  assert.equal(entry(changed, 'other', 0), entry(first, 'other', 0), "a route that names no policy's Service is the same object");
  assert.equal(status(changed, 'other'), status(first, 'other'));
});
