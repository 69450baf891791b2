// BackendTLSPolicy changes that leave every route resolving alike (translate/splice-policies.ts):
// a CA bundle rotated in its ConfigMap, a new SNI. The routes are kept as the same objects, the
// clusters take the new TLS settings, and the result equals a full translate(). A change to what
// routes read of the policies (one that becomes unusable) is a full translation.
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

test('a rotated CA bundle and a new SNI reach the clusters; routes, their statuses and the listeners stay the same objects', () => {
  const base = load(join(DIR, '_base.yaml'));
  const input = load(join(DIR, 'backendtlspolicy-configmap-ca.in.yaml'));
  const objects = new Map<string, Resource>();
  for (const e of [...base.entries, ...input.entries]) objects.set(keyOf(e.resource), e.resource);
  const inc = incrementalTranslate(translate);
  const run = (what: string): TranslateResult => {
    const snapshot = new Snapshot([...objects.values()].map((resource) => ({ resource })));
    const got = inc(snapshot, input.options);
    assert.deepStrictEqual(got, translate(snapshot, input.options), what);
    return got;
  };
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
