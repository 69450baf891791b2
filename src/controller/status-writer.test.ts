// The writer re-checks only the objects whose desired status changed between two sets; an
// object deleted and created again under the same name is such a change even when the
// translator hands over the very same status object (it shares equal statuses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusWriter, type StatusStore } from './status-writer.js';
import type { Resource } from '../api/types.js';
import type { ObjectStatus } from '../translate/types.js';
import { lcg } from '../../test/lcg.js';

const CTL = 'portico.dev/gateway-controller';

function fakeStore(objects: Map<string, Resource>, puts: string[]): StatusStore {
  return {
    client: {
      json: async (method: string, path: string, o?: { body?: Resource }) => {
        assert.equal(method, 'PUT');
        puts.push(path);
        const written = o!.body!;
        objects.set(written.metadata.name, written);
        return written;
      },
    } as unknown as StatusStore['client'],
    get: (_k, _ns, name) => objects.get(name),
    list: () => [],
    served: () => ({ kind: 'HTTPRoute' as never, group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' }),
    remember: (r) => void objects.set(r.metadata.name, r),
  };
}

const route = (uid: string): Resource => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'infra', generation: 1, uid },
  spec: {},
});

test('a route re-created under the same name gets its status again, though the desired status is the same object', async () => {
  const objects = new Map<string, Resource>([['r', route('uid-1')]]);
  const puts: string[] = [];
  const writer = new StatusWriter({ store: fakeStore(objects, puts), controllerName: CTL });
  writer.setEnabled(true);
  const status = { parents: [{ parentRef: { name: 'gw' }, controllerName: CTL, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', observedGeneration: 1 }] }] };
  const desired: ObjectStatus[] = [{ kind: 'HTTPRoute', namespace: 'infra', name: 'r', generation: 1, status }];

  writer.setDesired(desired);
  await writer.idle();
  assert.equal(puts.length, 1);
  assert.ok(objects.get('r')!.status, 'the first route has its status');

  // Unchanged and same object: nothing to check, nothing written.
  writer.setDesired(desired);
  await writer.idle();
  assert.equal(puts.length, 1);

  // Deleted and created again: a new uid, no status, same generation, same desired object.
  objects.set('r', route('uid-2'));
  writer.setDesired(desired);
  await writer.idle();
  assert.equal(puts.length, 2, 'the re-created route is written');
  assert.equal(objects.get('r')!.metadata.uid, 'uid-2');
  assert.deepEqual((objects.get('r')!.status as { parents: unknown[] }).parents.length, 1);
});

test('our entry on a route the translator no longer speaks for is taken out, and written again once it does', async () => {
  const ours = { parents: [{ parentRef: { name: 'gw' }, controllerName: CTL, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', observedGeneration: 1 }] }] };
  const objects = new Map<string, Resource>([['r', { ...route('uid-1'), status: ours }]]);
  const puts: string[] = [];
  const store: StatusStore = { ...fakeStore(objects, puts), byKind: (kind) => new Map(kind === 'HTTPRoute' ? [['HTTPRoute/infra/r', objects.get('r')!]] : []) };
  const writer = new StatusWriter({ store, controllerName: CTL });
  writer.setEnabled(true);
  writer.setDesired([]);
  await writer.idle();
  assert.equal(puts.length, 1);
  assert.deepEqual((objects.get('r')!.status as { parents: unknown[] }).parents, [], 'our parent entry is gone');
  // nothing of ours left: nothing more to write
  writer.setDesired([]);
  await writer.idle();
  assert.equal(puts.length, 1);
  const desired: ObjectStatus[] = [{ kind: 'HTTPRoute', namespace: 'infra', name: 'r', generation: 1, status: ours }];
  writer.setDesired(desired);
  await writer.idle();
  assert.equal(puts.length, 2);
  assert.equal((objects.get('r')!.status as { parents: unknown[] }).parents.length, 1, 'written again');
});

test('hold(): nothing is written until the release settles, or until maxMs when it never does', async () => {
  const status = { parents: [{ parentRef: { name: 'gw' }, controllerName: CTL, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', observedGeneration: 1 }] }] };
  const desired: ObjectStatus[] = [{ kind: 'HTTPRoute', namespace: 'infra', name: 'r', generation: 1, status }];

  const puts: string[] = [];
  const writer = new StatusWriter({ store: fakeStore(new Map([['r', route('uid-1')]]), puts), controllerName: CTL });
  writer.setEnabled(true);
  let release!: () => void;
  writer.hold(new Promise<void>((r) => (release = r)), 60_000);
  writer.setDesired(desired);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(puts.length, 0, 'held');
  assert.equal(writer.isEnabled, true, 'a hold is not a lost leadership (the provisioner reads isEnabled)');
  release();
  await writer.idle();
  assert.equal(puts.length, 1, 'written once released');

  const late: string[] = [];
  const stuck = new StatusWriter({ store: fakeStore(new Map([['r', route('uid-1')]]), late), controllerName: CTL });
  stuck.setEnabled(true);
  stuck.hold(new Promise<void>(() => undefined), 100);
  stuck.setDesired(desired);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(late.length, 0, 'held');
  await stuck.idle();
  assert.equal(late.length, 1, 'written after maxMs');
});

// setDesired after a rebuild looks only at the statuses that are not the previous call's objects
// in step and at the stored objects that changed (setEdited); with no changed keys it walks every
// status and every stored route (setAll). Random rebuilds: both must want the same of every object.
test('the edited desired set equals the whole one over random rebuilds and store changes', () => {
  const rnd = lcg(7);
  const ours = (gen: number) => ({ parents: [{ parentRef: { name: 'gw' }, controllerName: CTL, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok', observedGeneration: gen }] }] });
  const key = (i: number) => `HTTPRoute/infra/r${String(i).padStart(3, '0')}`;
  const objects = new Map<string, Resource>();
  let uids = 0;
  const put = (i: number, status?: unknown) => objects.set(key(i), { ...route(`uid-${++uids}`), metadata: { name: `r${String(i).padStart(3, '0')}`, namespace: 'infra', generation: 1, uid: `uid-${uids}` }, ...(status ? { status } : {}) } as Resource);
  for (let i = 0; i < 60; i++) put(i, rnd(3) === 0 ? ours(1) : undefined);
  const store = (): StatusStore => ({
    ...fakeStore(new Map(), []),
    get: (_k, ns, name) => objects.get(`HTTPRoute/${ns}/${name}`),
    getKey: (k) => objects.get(k),
    byKind: (kind) => new Map(kind === 'HTTPRoute' ? [...objects] : []),
  });
  const edited = new StatusWriter({ store: store(), controllerName: CTL });
  const whole = new StatusWriter({ store: store(), controllerName: CTL });
  const statusOf = new Map<number, ObjectStatus>();
  const fresh = (i: number): ObjectStatus => ({ kind: 'HTTPRoute', namespace: 'infra', name: `r${String(i).padStart(3, '0')}`, generation: 1, status: ours(rnd(3)) });
  const view = (w: StatusWriter) =>
    [...(w as unknown as { desired: Map<string, { status?: unknown; uid?: string; remove?: boolean }> }).desired].map(([k, d]) => [k, d.remove ?? false, d.uid, d.status]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  // How often the edited writer fell back to the whole walk: the first call, and reorders.
  let whole_walks = 0;
  const inner = edited as unknown as { setAll: (...a: unknown[]) => void };
  const setAll = inner.setAll.bind(edited);
  inner.setAll = (...a) => (whole_walks++, setAll(...a));
  for (let step = 0; step < 400; step++) {
    const changed = new Set<string>();
    // the store: objects deleted, re-created (a new uid), or given / cleared our entries by a write
    for (let c = rnd(4); c > 0; c--) {
      const i = rnd(60);
      const op = rnd(3);
      if (op === 0) objects.delete(key(i));
      else put(i, op === 1 ? ours(1) : undefined);
      changed.add(key(i));
    }
    // the translator: statuses added, dropped, replaced by new objects; now and then reordered
    for (let c = rnd(4); c > 0; c--) {
      const i = rnd(60);
      if (statusOf.has(i) && rnd(2) === 0) statusOf.delete(i);
      else statusOf.set(i, fresh(i));
    }
    const list = [...statusOf.keys()].sort((a, b) => a - b).map((i) => statusOf.get(i)!);
    if (rnd(20) === 0) list.reverse();
    if (rnd(40) === 0) for (let i = 0; i < 60; i++) statusOf.set(i, fresh(i)); // next step: more edits than setEdited takes
    edited.setDesired(list, changed);
    whole.setDesired(list);
    assert.deepEqual(view(edited), view(whole), `step ${step}`);
  }
  assert.ok(whole_walks < 40, `the edited writer walked everything in ${whole_walks} of 400 rebuilds`);
});
