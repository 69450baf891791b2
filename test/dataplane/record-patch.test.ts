// A clusters record with a few clusters replaced (src/ir/record-patch.ts), as an EndpointSlice
// change makes it: the config stream's encoder sends those alone, the decoder makes the same kind
// of record on the pod's side, the pod's check finds a bad replaced cluster without walking the
// others, and the engine's RuntimeConfig keeps every other cluster's compiled object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patchRecord, patchedKeys } from '../../src/ir/record-patch.js';
import { DeltaDecoder, DeltaEncoder } from '../../src/dataplane/ir-delta.js';
import { RuntimeConfig } from '../../src/dataplane/config.js';
import { IRChecker } from '../../src/sync/validate.js';
import type { Cluster, IR } from '../../src/ir/types.js';
import { cluster, route, simpleIR, to } from './helpers.js';

const NAMES = Array.from({ length: 300 }, (_, i) => `ns/svc-${String(i).padStart(3, '0')}:80`);

function sample(): IR {
  return simpleIR(1000, NAMES.map((n) => route({ path: { type: 'PathPrefix', value: `/${n}` } }, [to(n)])), NAMES.map((n, i) => cluster(n, [i + 1])));
}

test('patchRecord: keys in the base order, replaced values, and patchedKeys only against that very base', () => {
  const base = { a: 1, b: 2, c: 3 };
  const next = patchRecord(base, new Map([['b', 20]]))!;
  assert.deepEqual(Object.entries(next), [['a', 1], ['b', 20], ['c', 3]]);
  assert.deepEqual(patchedKeys(next, base), ['b']);
  assert.equal(patchedKeys(next, { ...base }), undefined);
  assert.equal(patchedKeys(next, undefined), undefined);
  assert.equal(patchedKeys(base, next), undefined);
  // A key the base lacks is not a replacement: no record.
  assert.equal(patchRecord(base, new Map([['d', 4]])), undefined);
});

test('a patched clusters record travels as its replaced clusters and arrives as a patched record; the engine keeps the other clusters', () => {
  const enc = new DeltaEncoder();
  const dec = new DeltaDecoder();
  const ir1 = sample();
  const got1 = dec.apply(enc.encode(ir1).text);
  assert.ok(got1 !== 'resync');
  const checker = new IRChecker();
  checker.check(got1, 'default/gw');
  const config1 = new RuntimeConfig(got1);

  const moved = NAMES[17]!;
  const ir2: IR = { ...ir1, clusters: patchRecord(ir1.clusters, new Map([[moved, cluster(moved, [9999])]]))! };
  const sent = enc.encode(ir2);
  assert.equal(sent.changedClusters, 1);
  assert.equal(sent.changedPorts, 0);
  const got2 = dec.apply(sent.text);
  assert.ok(got2 !== 'resync');
  assert.deepEqual(got2, ir2);
  assert.deepEqual(patchedKeys(got2.clusters, got1.clusters), [moved]);
  checker.check(got2, 'default/gw');
  const config2 = new RuntimeConfig(got2, config1);
  assert.deepEqual([...config2.clusters.keys()], NAMES);
  for (const n of NAMES) {
    if (n === moved) assert.notEqual(config2.clusters.get(n), config1.clusters.get(n));
    else assert.equal(config2.clusters.get(n), config1.clusters.get(n), n);
  }
  assert.deepEqual(config2.clusters.get(moved)!.endpoints, [{ address: '127.0.0.1', port: 9999 }]);

  // The same record again: nothing travels. A second patch on top of the first: its cluster alone.
  assert.equal(enc.encode(ir2).empty, true);
  const other = NAMES[200]!;
  const ir3: IR = { ...ir2, clusters: patchRecord(ir2.clusters, new Map([[other, cluster(other, [8888])]]))! };
  const got3 = dec.apply(enc.encode(ir3).text);
  assert.ok(got3 !== 'resync');
  assert.deepEqual(got3, ir3);
  const config3 = new RuntimeConfig(got3, config2);
  assert.equal(config3.clusters.get(moved), config2.clusters.get(moved));
  assert.notEqual(config3.clusters.get(other), config2.clusters.get(other));
});

test('the pod check finds a bad cluster in a patched record, and a refused record is no base for the next', () => {
  const ir1 = sample();
  const checker = new IRChecker();
  checker.check(ir1, 'default/gw');
  const bad = NAMES[5]!;
  const broken = { ...cluster(bad, [1]), name: 'someone-else' } as Cluster;
  const ir2: IR = { ...ir1, clusters: patchRecord(ir1.clusters, new Map([[bad, broken]]))! };
  assert.throws(() => checker.check(ir2, 'default/gw'), /cluster key ns\/svc-005:80 holds cluster someone-else/);
  // Patched from the refused record: its base is not what the checker last passed, so all is checked.
  const ir3: IR = { ...ir2, clusters: patchRecord(ir2.clusters, new Map([[NAMES[6]!, cluster(NAMES[6]!, [2])]]))! };
  assert.throws(() => checker.check(ir3, 'default/gw'), /holds cluster someone-else/);
});
