// The writer re-checks only the objects whose desired status changed between two sets; an
// object deleted and created again under the same name is such a change even when the
// translator hands over the very same status object (it shares equal statuses).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StatusWriter, type StatusStore } from './status-writer.js';
import type { Resource } from '../api/types.js';
import type { ObjectStatus } from '../translate/types.js';

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
