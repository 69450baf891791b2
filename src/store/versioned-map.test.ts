// Every version of a VersionedMap reads as it was made, whichever version was made, read or
// iterated after it, and changedSince names exactly the keys that differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VersionedMap } from './versioned-map.js';
import { lcg } from '../../test/lcg.js';

for (const retireAt of [undefined, 7])
test(`every version keeps reading as it was, along a line and on branches${retireAt ? ', lines retired after 7 replaced values' : ''}`, () => {
  const rand = lcg(11);
  const versions: { v: VersionedMap<number>; want: Map<string, number> }[] = [{ v: VersionedMap.of(new Map(), retireAt), want: new Map() }];
  let retired = 0;
  for (let step = 0; step < 400; step++) {
    // Mostly from the newest version (the cheap path), sometimes from an older one (a branch).
    const from = rand(5) === 0 ? versions[rand(versions.length)]! : versions[versions.length - 1]!;
    const changes: [string, number | undefined][] = [];
    const want = new Map(from.want);
    for (let c = 0, n = rand(4); c < n; c++) {
      const k = `k${rand(30)}`;
      const value = rand(3) === 0 ? undefined : step * 10 + c;
      changes.push([k, value]);
      if (value === undefined) want.delete(k);
      else want.set(k, value);
    }
    const v = from.v.with(changes);
    versions.push({ v, want });
    if (changes.length === 0) assert.equal(v, from.v, 'no change, no new version');
    // Read a few old versions key by key, and iterate one now and then (it takes its own Map).
    for (let r = 0; r < 3; r++) {
      const o = versions[rand(versions.length)]!;
      for (let i = 0; i < 30; i++) assert.equal(o.v.get(`k${i}`), o.want.get(`k${i}`), `step ${step} k${i}`);
      assert.equal(o.v.size, o.want.size);
      if (rand(10) === 0) assert.deepEqual(new Map(o.v), o.want);
    }
    const changed = v.changedSince(from.v);
    if (!changed) retired++;
    else {
      const diff = [...new Set([...want.keys(), ...from.want.keys()])].filter((k) => want.get(k) !== from.want.get(k));
      assert.deepEqual(new Set(changed), new Set(diff), `step ${step}`);
    }
  }
  for (const o of versions) assert.deepEqual(new Map(o.v.entries()), o.want);
  // Without retiring, a version made from another always knows what changed since; retired lines start anew now and then.
  if (retireAt) assert.ok(retired > 10, `${retired} lines retired`);
  else assert.equal(retired, 0);
});

test('changedSince spans several versions, and is undefined between unrelated maps', () => {
  const a = VersionedMap.of(new Map([['x', 1], ['y', 2]]));
  const b = a.with([['x', 5]]);
  const c = b.with([['x', 1], ['z', 3]]);
  const d = c.with([['y', undefined]]);
  assert.deepEqual(new Set(d.changedSince(a)), new Set(['z', 'y']), 'x changed and changed back');
  assert.deepEqual(d.changedSince(d), []);
  assert.equal(a.changedSince(d), undefined, 'not a later version');
  assert.equal(d.changedSince(VersionedMap.of(new Map([['x', 1]]))), undefined);
  assert.deepEqual([...a.entries()], [['x', 1], ['y', 2]]);
  assert.deepEqual(new Set(d.changedSince(a)), new Set(['z', 'y']), 'iterating an older version leaves it in its line');
  assert.equal(d.get('y'), undefined);
  assert.equal(d.has('z'), true);
  assert.equal(a.has('z'), false);
});
