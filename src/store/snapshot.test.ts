// A Snapshot built from the previous one (its sorted lists patched) must list exactly what one
// built from scratch lists, after random additions, replacements and removals across kinds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Resource } from '../api/types.js';
import { Snapshot, type Entry } from './snapshot.js';
import { VersionedMap } from './versioned-map.js';
import { lcg } from '../../test/lcg.js';

const KINDS = ['HTTPRoute', 'Service', 'Secret', 'GatewayClass', 'Gateway'];

function entry(kind: string, ns: string, name: string, v: number): Entry {
  return { resource: { apiVersion: 'v1', kind, metadata: { name, ...(kind === 'GatewayClass' ? {} : { namespace: ns }) }, spec: { v } } as unknown as Resource };
}

test('a snapshot patched from the previous one lists what a fresh one lists', () => {
  const rand = lcg(7);
  const live = new Map<string, Entry>();
  let prev: Snapshot | undefined;
  for (let step = 0; step < 300; step++) {
    for (let c = 0, n = 1 + rand(4); c < n; c++) {
      const kind = KINDS[rand(KINDS.length)]!;
      const name = `o${rand(40)}`;
      const ns = ['a', 'b', 'default'][rand(3)]!;
      const key = `${kind}/${kind === 'GatewayClass' ? '' : ns}/${name}`;
      if (rand(3) === 0) live.delete(key);
      else live.set(key, entry(kind, ns, name, step));
    }
    // Every other step the entries come as new wrappers around the same resources (as the Kubernetes source gives them).
    const list = step % 2 ? [...live.values()].map((e) => ({ resource: e.resource })) : [...live.values()];
    const fresh = new Snapshot(list);
    const patched = new Snapshot(list, prev);
    for (const kind of [...KINDS, 'Namespace']) {
      assert.deepEqual(patched.entries(kind), fresh.entries(kind), `step ${step} kind ${kind}`);
      for (const e of fresh.entries(kind)) assert.equal(patched.get(kind, e.resource.metadata.namespace, e.resource.metadata.name), e.resource);
    }
    assert.equal(patched.size, fresh.size);
    // What changed, as a full comparison finds it.
    if (prev) {
      const want = new Set<string>();
      for (const [k, e] of patched.byKeys()) if (prev.byKeys().get(k)?.resource !== e.resource) want.add(k);
      for (const k of prev.byKeys().keys()) if (!patched.byKeys().has(k)) want.add(k);
      assert.deepEqual(new Set(patched.delta!.keys), want, `step ${step}`);
      assert.equal(patched.delta!.from, prev.byKeys());
    }
    // Unchanged kinds keep the previous list itself.
    if (prev) {
      const again = new Snapshot(list, patched);
      for (const kind of KINDS) if (patched.entries(kind).length > 0) assert.equal(again.entries(kind), patched.entries(kind));
    }
    prev = patched;
  }
});

for (const retireAt of [undefined, 5])
test(`a snapshot from a later version of the previous snapshot VersionedMap lists what a fresh one lists, and the previous one still reads as it was${retireAt ? ' (lines retired often)' : ''}`, () => {
  const rand = lcg(3);
  let map = VersionedMap.of(new Map<string, Entry>(), retireAt);
  let prev: { snapshot: Snapshot; live: Map<string, Entry> } | undefined;
  for (let step = 0; step < 300; step++) {
    const changes: [string, Entry | undefined][] = [];
    // Sometimes two versions between snapshots (the file source may give more than one state per build).
    for (let v = 0, versions = 1 + rand(2); v < versions; v++) {
      for (let c = 0, n = rand(4); c < n; c++) {
        const kind = KINDS[rand(KINDS.length)]!;
        const name = `o${rand(40)}`;
        const ns = ['a', 'b', 'default'][rand(3)]!;
        const key = kind === 'GatewayClass' ? `${kind}/${name}` : `${kind}/${ns}/${name}`;
        changes.push([key, rand(3) === 0 ? undefined : entry(kind, ns, name, step)]);
      }
      map = map.with(changes.splice(0));
    }
    const live = new Map(map);
    const fresh = new Snapshot(live.values());
    const patched = new Snapshot(map, prev?.snapshot);
    for (const kind of [...KINDS, 'Namespace']) {
      assert.deepEqual(patched.entries(kind), fresh.entries(kind), `step ${step} kind ${kind}`);
      assert.deepEqual(patched.list(kind), fresh.list(kind));
    }
    assert.equal(patched.size, fresh.size);
    if (prev) {
      const want = new Set<string>();
      for (const k of new Set([...live.keys(), ...prev.live.keys()])) if (live.get(k) !== prev.live.get(k)) want.add(k);
      assert.deepEqual(new Set(patched.delta!.keys), want, `step ${step}`);
      assert.equal(patched.delta!.from, prev.snapshot.byKeys());
      // The previous snapshot reads as it did (translate/incremental.ts looks up what a key was).
      for (const [k, e] of prev.live) assert.equal(prev.snapshot.byKeys().get(k), e);
      for (const k of want) assert.equal(prev.snapshot.byKeys().get(k), prev.live.get(k));
    }
    prev = { snapshot: patched, live };
  }
});

test('a batch of 150,000 changes in one kind patches the previous snapshot (its runs are not spread into one call)', () => {
  const n = 150_000;
  // Every other key was there before: each new one lands between two kept runs.
  const before = Array.from({ length: n }, (_, i) => entry('EndpointSlice', 'a', `s${String(2 * i).padStart(7, '0')}`, 0));
  const prev = new Snapshot(before);
  const after = [...before, ...Array.from({ length: n }, (_, i) => entry('EndpointSlice', 'a', `s${String(2 * i + 1).padStart(7, '0')}`, 1))];
  const patched = new Snapshot(after, prev);
  assert.equal(patched.delta?.keys.length, n);
  assert.deepEqual(patched.entries('EndpointSlice'), new Snapshot(after).entries('EndpointSlice'));
});
