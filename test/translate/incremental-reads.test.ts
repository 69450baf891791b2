// What translate() reads of a Service, a Namespace, a ConfigMap and a ReferenceGrant (translate/incremental.ts READ):
// an edit to any other field of a referenced one keeps the last result (no full translate()), an
// edit to a field it reads translates again (in full, or by the splice of the routes that looked it
// up). Both must equal a full translate() of the same
// snapshot. Each read field is pinned here by one case, so dropping it from READ fails this file
// on every run, not only on the deeper random runs of incremental.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Resource } from '../../src/api/types.js';
import { keyOf, Snapshot, type Entry } from '../../src/store/snapshot.js';
import { referenceGrantsKey } from '../../src/store/relevance.js';
import { translate } from '../../src/translate/index.js';
import { incrementalTranslate } from '../../src/translate/incremental.js';
import { load } from './golden-input.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');
const base = load(join(DIR, '_base.yaml'));

type Edit = (r: Resource & Record<string, any>) => void;
const annotate: Edit = (r) => void (r.metadata.annotations = { ...(r.metadata.annotations ?? {}), 'deploy/revision': '2' });

/** `via`: how the read edit is translated again (a Service or ConfigMap a policy looked up: in full; a Namespace only routes looked up: their splice). */
/** `looked`: the key the translation notes for it, when not its store key (a ReferenceGrant: all grants of its namespace). */
const cases: { golden: string; kind: string; name: string; namespace?: string; looked?: string; unread: Edit[]; read: Edit; via: 'full' | 'lookupsSpliced' }[] = [
  {
    golden: 'backendtlspolicy-configmap-ca',
    kind: 'Service',
    name: 'secure',
    namespace: 'default',
    unread: [annotate, (r) => void (r.spec.clusterIP = '10.96.0.9'), (r) => void (r.metadata.labels = { 'helm.sh/chart': 'x' })],
    read: (r) => void (r.spec.ports[0].port = 444),
    via: 'full',
  },
  {
    golden: 'backendtlspolicy-configmap-ca',
    kind: 'ConfigMap',
    name: 'backend-ca',
    namespace: 'default',
    unread: [annotate, (r) => void (r.data = { ...r.data, 'other.pem': 'x' })],
    read: (r) => void (r.data = { 'ca.crt': 'not a certificate' }),
    via: 'full',
  },
  {
    golden: 'allowedroutes-selector',
    kind: 'ReferenceGrant',
    name: 'routes-to-foo',
    namespace: 'default',
    looked: referenceGrantsKey('default'),
    unread: [annotate, (r) => void (r.metadata.labels = { team: 'x' })],
    // HTTPRoutes from apps may no longer reach foo: only the routes that asked are translated again.
    read: (r) => void r.spec.from.splice(0, 1),
    via: 'lookupsSpliced',
  },
  {
    golden: 'allowedroutes-selector',
    kind: 'Namespace',
    name: 'infra',
    unread: [annotate],
    read: (r) => void (r.metadata.labels = { team: 'elsewhere' }),
    via: 'lookupsSpliced',
  },
];

for (const c of cases) {
  test(`${c.kind} ${c.name} (${c.golden}): unread fields keep the result, a read field translates again`, () => {
    const input = load(join(DIR, `${c.golden}.in.yaml`));
    const entries = new Map<string, Entry>();
    for (const e of [...base.entries, ...input.entries]) entries.set(`${e.resource.kind}/${e.resource.metadata.namespace ?? ''}/${e.resource.metadata.name}`, e);
    const key = `${c.kind}/${c.namespace ?? ''}/${c.name}`;
    assert.ok(entries.has(key), `${key} is in the case`);
    const inc = incrementalTranslate(translate);
    let snapshot = new Snapshot([...entries.values()]);
    const first = inc(snapshot, input.options);
    assert.ok(first.references?.includes(c.looked ?? keyOf(c.kind, c.namespace, c.name)), `the case looks ${c.name} up`);
    const step = (edit: Edit) => {
      const r = structuredClone(entries.get(key)!.resource) as Resource & Record<string, any>;
      edit(r);
      entries.set(key, { resource: r });
      snapshot = new Snapshot([...entries.values()], snapshot);
      const got = inc(snapshot, input.options);
      assert.deepStrictEqual(got, translate(snapshot, input.options));
      return got;
    };
    for (const edit of c.unread) {
      const got = step(edit);
      assert.equal(got, first, 'the same result object');
    }
    assert.equal(inc.stats.full, 1, JSON.stringify(inc.stats));
    const before = { ...inc.stats };
    const got = step(c.read);
    assert.equal(inc.stats[c.via], before[c.via] + 1, JSON.stringify(inc.stats));
    assert.notDeepStrictEqual(got, first, 'the read field changes the result');
  });
}

test('an object whose Entry moved (its origin, file:line) but not its resource keeps the result', () => {
  const input = load(join(DIR, 'backendtlspolicy-configmap-ca.in.yaml'));
  const entries = [...base.entries, ...input.entries];
  const inc = incrementalTranslate(translate);
  const first = new Snapshot(entries);
  const before = inc(first, input.options);
  // Every entry a new wrapper with another origin, as a file source gives them after lines were added above.
  const moved = new Snapshot(entries.map((e) => ({ ...e, origin: `${e.origin ?? 'x.yaml:1'}0` })), first);
  assert.equal(inc(moved, input.options), before);
  assert.equal(inc.stats.full, 1, JSON.stringify(inc.stats));
});
