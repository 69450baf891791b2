import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeStatus, statusEqual, withoutOurEntries } from './status-merge.js';

const OURS = 'portico.dev/gateway-controller';
const THEIRS = 'example.com/other';
const T0 = '2026-01-01T00:00:00Z';
const NOW = '2026-02-02T00:00:00Z';

const cond = (type: string, status: string, reason: string, ltt?: string) => ({
  type,
  status,
  reason,
  message: '',
  observedGeneration: 1,
  ...(ltt ? { lastTransitionTime: ltt } : {}),
});

test('a condition whose status is unchanged keeps its lastTransitionTime; a flipped one gets now', () => {
  const current = { conditions: [cond('Accepted', 'True', 'Accepted', T0), cond('Programmed', 'False', 'Pending', T0)] };
  const desired = { conditions: [cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'True', 'Programmed')] };
  const out = mergeStatus(current, desired, OURS, NOW) as { conditions: { lastTransitionTime: string }[] };
  assert.equal(out.conditions[0]!.lastTransitionTime, T0);
  assert.equal(out.conditions[1]!.lastTransitionTime, NOW);
});

test('unchanged status compares equal after merge, so no write happens', () => {
  const current = {
    conditions: [cond('Accepted', 'True', 'Accepted', T0)],
    listeners: [{ name: 'http', attachedRoutes: 1, supportedKinds: [{ kind: 'HTTPRoute' }], conditions: [cond('Programmed', 'True', 'Programmed', T0)] }],
  };
  const desired = {
    conditions: [cond('Accepted', 'True', 'Accepted')],
    listeners: [{ name: 'http', attachedRoutes: 1, supportedKinds: [{ kind: 'HTTPRoute' }], conditions: [cond('Programmed', 'True', 'Programmed')] }],
  };
  assert.ok(statusEqual(current, mergeStatus(current, desired, OURS, NOW)));
  const changed = { ...desired, listeners: [{ ...desired.listeners[0]!, attachedRoutes: 2 }] };
  assert.ok(!statusEqual(current, mergeStatus(current, changed, OURS, NOW)));
});

test('listener conditions are paired by listener name, not position', () => {
  const current = {
    listeners: [
      { name: 'a', conditions: [cond('Accepted', 'True', 'Accepted', T0)] },
      { name: 'b', conditions: [cond('Accepted', 'False', 'Invalid', T0)] },
    ],
  };
  const desired = {
    listeners: [
      { name: 'b', conditions: [cond('Accepted', 'True', 'Accepted')] },
      { name: 'a', conditions: [cond('Accepted', 'True', 'Accepted')] },
    ],
  };
  const out = mergeStatus(current, desired, OURS, NOW) as { listeners: { name: string; conditions: { lastTransitionTime: string }[] }[] };
  assert.equal(out.listeners[0]!.name, 'b');
  assert.equal(out.listeners[0]!.conditions[0]!.lastTransitionTime, NOW);
  assert.equal(out.listeners[1]!.conditions[0]!.lastTransitionTime, T0);
});

test("route parents: other controllers' entries stay untouched and in place; ours are replaced", () => {
  const theirs = { parentRef: { name: 'gw-x' }, controllerName: THEIRS, conditions: [cond('Accepted', 'True', 'Accepted', T0)] };
  const current = {
    parents: [
      { parentRef: { name: 'gw', namespace: 'ns' }, controllerName: OURS, conditions: [cond('Accepted', 'True', 'Accepted', T0)] },
      theirs,
    ],
  };
  const desired = {
    parents: [
      { parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', namespace: 'ns' }, controllerName: OURS, conditions: [cond('Accepted', 'True', 'Accepted')] },
      { parentRef: { name: 'gw2', namespace: 'ns' }, controllerName: OURS, conditions: [cond('Accepted', 'False', 'NotAllowedByListeners')] },
    ],
  };
  const out = mergeStatus(current, desired, OURS, NOW) as { parents: { parentRef: { name: string }; controllerName: string; conditions: { lastTransitionTime: string }[] }[] };
  assert.deepEqual(out.parents.map((p) => p.parentRef.name), ['gw', 'gw-x', 'gw2']);
  assert.equal(out.parents[0]!.conditions[0]!.lastTransitionTime, T0, 'defaulted group/kind still pairs with the stored ref');
  assert.deepEqual(out.parents[1], theirs);
  assert.equal(out.parents[2]!.conditions[0]!.lastTransitionTime, NOW);
});

test('our parent entry that the translator no longer emits is removed, theirs kept', () => {
  const theirs = { parentRef: { name: 'gw-x' }, controllerName: THEIRS, conditions: [] };
  const current = { parents: [{ parentRef: { name: 'old' }, controllerName: OURS, conditions: [] }, theirs] };
  const out = mergeStatus(current, { parents: [] }, OURS, NOW) as { parents: unknown[] };
  assert.deepEqual(out.parents, [theirs]);
  assert.deepEqual(withoutOurEntries(current, OURS), { parents: [theirs] });
  assert.equal(withoutOurEntries({ parents: [theirs] }, OURS), undefined, 'nothing of ours: nothing to write');
});

test('policy ancestors are shared the same way', () => {
  const theirs = { ancestorRef: { name: 'gw' }, controllerName: THEIRS, conditions: [] };
  const current = { ancestors: [theirs] };
  const desired = { ancestors: [{ ancestorRef: { name: 'gw' }, controllerName: OURS, conditions: [cond('Accepted', 'True', 'Accepted')] }] };
  const out = mergeStatus(current, desired, OURS, NOW) as { ancestors: { controllerName: string }[] };
  assert.deepEqual(out.ancestors.map((a) => a.controllerName), [THEIRS, OURS]);
});

test('conditions of a domain-prefixed type (written by someone else) are kept unmodified, ours are replaced', () => {
  const foreign = { ...cond('example.com/Stale', 'True', 'Seeded', T0), observedGeneration: 1 };
  const current = {
    conditions: [cond('Accepted', 'True', 'Accepted', T0), foreign, cond('Programmed', 'True', 'Programmed', T0)],
    listeners: [{ name: 'http', conditions: [foreign, cond('Programmed', 'True', 'Programmed', T0)] }],
  };
  const desired = {
    conditions: [{ ...cond('Accepted', 'True', 'Accepted'), observedGeneration: 2 }],
    listeners: [{ name: 'http', conditions: [{ ...cond('Programmed', 'True', 'Programmed'), observedGeneration: 2 }] }],
  };
  const out = mergeStatus(current, desired, OURS, NOW) as { conditions: Record<string, unknown>[]; listeners: { conditions: Record<string, unknown>[] }[] };
  // Our Programmed, no longer wanted at the top level, is gone; the foreign one stays as stored.
  assert.deepEqual(out.conditions.map((c) => c.type), ['Accepted', 'example.com/Stale']);
  assert.deepEqual(out.conditions[1], foreign);
  assert.equal(out.conditions[0]!.observedGeneration, 2);
  assert.deepEqual(out.listeners[0]!.conditions.map((c) => c.type), ['Programmed', 'example.com/Stale']);
  assert.deepEqual(out.listeners[0]!.conditions[1], foreign);
  // Writing the result back changes nothing on the next pass.
  assert.ok(statusEqual(out, mergeStatus(out, desired, OURS, NOW)));
});
