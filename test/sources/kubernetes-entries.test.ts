// What KubernetesSource hands the Snapshot: one Entry per object while it is unchanged, where a
// status-only update of a statusUnread kind (the echo of our own status write) is unchanged, and
// versionedEntries() versions in which a Snapshot finds exactly the keys that changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '../../src/sources/kubeconfig.js';
import { Kind, type KindName } from '../../src/api/names.js';
import type { Resource } from '../../src/api/types.js';
import { KubernetesSource, type ServedKind } from '../../src/sources/kubernetes.js';
import { Snapshot } from '../../src/store/snapshot.js';

const kc = new KubeConfig();
kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:9', skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
const served = (kind: KindName): ServedKind => ({ kind, group: kind === Kind.Service ? '' : 'gateway.networking.k8s.io', version: 'v1', plural: `${kind.toLowerCase()}s` });
/** No API server here: the kinds are "served" as an informer would have found them. */
class Source extends KubernetesSource {
  override served(kind: KindName): ServedKind | undefined {
    return served(kind);
  }
}
const obj = (kind: KindName, name: string, rv: number, extra: Partial<Resource> = {}): Resource => ({
  apiVersion: 'v1',
  kind,
  metadata: { name, namespace: 'app', uid: `uid-${name}`, resourceVersion: String(rv), generation: 1 },
  spec: { hostnames: ['a.example'] },
  ...extra,
});

test('a status-only update keeps the Entry for statusUnread kinds only; get() has the latest copy', () => {
  const source = new Source({ kubeConfig: kc, statusUnread: new Set([Kind.HTTPRoute]) });
  const changes: string[] = [];
  source.onChange((c) => changes.push(`${c.type} ${c.kind}`));
  source.observe('add', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, 'r', 1) as never);
  source.observe('add', served(Kind.Service), obj(Kind.Service, 's', 2) as never);
  const before = new Map(source.entries().map((e) => [e.resource.kind, e]));

  source.observe('update', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, 'r', 3, { status: { parents: [] } }) as never);
  source.observe('update', served(Kind.Service), obj(Kind.Service, 's', 4, { status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } } }) as never);
  const after = new Map(source.entries().map((e) => [e.resource.kind, e]));
  assert.equal(after.get(Kind.HTTPRoute), before.get(Kind.HTTPRoute), 'the route keeps its Entry');
  assert.notEqual(after.get(Kind.Service), before.get(Kind.Service), 'a Service status is read (LoadBalancer addresses): new Entry');
  assert.deepEqual(source.get(Kind.HTTPRoute, 'app', 'r')?.status, { parents: [] }, 'get() is the latest copy');
  assert.deepEqual(changes, ['add HTTPRoute', 'add Service', 'update HTTPRoute', 'update Service'], 'every change is still announced');

  // remember() (after our own status write) is no change either
  source.remember(obj(Kind.HTTPRoute, 'r', 5, { status: { parents: [{ controllerName: 'x' }] } }));
  assert.equal(source.entries().find((e) => e.resource.kind === Kind.HTTPRoute), before.get(Kind.HTTPRoute));
  assert.equal(source.get(Kind.HTTPRoute, 'app', 'r')?.metadata.resourceVersion, '5');

  // a spec or metadata change is
  source.observe('update', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, 'r', 6, { spec: { hostnames: ['b.example'] } }) as never);
  const spec = source.entries().find((e) => e.resource.kind === Kind.HTTPRoute)!;
  assert.notEqual(spec, before.get(Kind.HTTPRoute));
  assert.deepEqual(spec.resource.spec, { hostnames: ['b.example'] });
  source.observe('update', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, 'r', 7, { spec: { hostnames: ['b.example'] }, metadata: { name: 'r', namespace: 'app', uid: 'uid-r', resourceVersion: '7', generation: 1, labels: { a: 'b' } } }) as never);
  assert.notEqual(source.entries().find((e) => e.resource.kind === Kind.HTTPRoute), spec, 'a label change is a change');
});

test('equal statuses of statusUnread kinds are one object; other kinds keep their own', () => {
  const source = new Source({ kubeConfig: kc, statusUnread: new Set([Kind.HTTPRoute]) });
  const status = () => ({ parents: [{ parentRef: { name: 'gw' }, controllerName: 'x', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', lastTransitionTime: '2026-12-02T10:00:00Z' }] }] });
  for (const n of ['a', 'b']) {
    source.observe('add', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, n, 1) as never);
    source.remember(obj(Kind.HTTPRoute, n, 2, { status: status() }));
  }
  source.observe('add', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, 'c', 3, { status: status() }) as never);
  const [a, b, c] = ['a', 'b', 'c'].map((n) => source.get(Kind.HTTPRoute, 'app', n)!.status);
  assert.deepEqual(a, status());
  assert.equal(a, b, 'two write echoes');
  assert.equal(a, c, 'a listed object');
  source.remember(obj(Kind.HTTPRoute, 'b', 4, { status: { parents: [] } }));
  assert.deepEqual(source.get(Kind.HTTPRoute, 'app', 'b')!.status, { parents: [] }, 'a different status is its own');
  assert.equal(source.get(Kind.HTTPRoute, 'app', 'a')!.status, a);
  for (const n of ['s1', 's2']) source.observe('add', served(Kind.Service), obj(Kind.Service, n, 5, { status: { loadBalancer: {} } }) as never);
  assert.notEqual(source.get(Kind.Service, 'app', 's1')!.status, source.get(Kind.Service, 'app', 's2')!.status, 'kinds whose status is read are left alone');
});

test('versionedEntries: a Snapshot from the next version sees exactly the keys that changed', () => {
  const source = new Source({ kubeConfig: kc, statusUnread: new Set([Kind.HTTPRoute]) });
  for (let i = 0; i < 5; i++) source.observe('add', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, `r${i}`, i + 1) as never);
  const s1 = new Snapshot(source.versionedEntries());
  assert.equal(s1.size, 5);
  assert.equal(source.versionedEntries(), source.versionedEntries(), 'nothing changed: the same version');

  source.observe('update', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, 'r0', 10, { status: { parents: [] } }) as never); // status only
  source.observe('update', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, 'r1', 11, { spec: { hostnames: ['x.example'] } }) as never);
  source.observe('delete', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, 'r2', 12) as never);
  source.observe('add', served(Kind.HTTPRoute), obj(Kind.HTTPRoute, 'r9', 13) as never);
  const s2 = new Snapshot(source.versionedEntries(), s1);
  assert.deepEqual([...(s2.delta?.keys ?? [])].sort(), ['HTTPRoute/app/r1', 'HTTPRoute/app/r2', 'HTTPRoute/app/r9']);
  assert.deepEqual(s2.list<Resource>(Kind.HTTPRoute).map((r) => r.metadata.name), ['r0', 'r1', 'r3', 'r4', 'r9']);
  assert.deepEqual(s1.list<Resource>(Kind.HTTPRoute).map((r) => r.metadata.name), ['r0', 'r1', 'r2', 'r3', 'r4'], 'the older snapshot reads as it was');
  assert.deepEqual(source.list(Kind.HTTPRoute).map((r) => r.metadata.name).sort(), ['r0', 'r1', 'r3', 'r4', 'r9']);
  assert.deepEqual([...source.byKind(Kind.HTTPRoute).keys()].sort(), ['HTTPRoute/app/r0', 'HTTPRoute/app/r1', 'HTTPRoute/app/r3', 'HTTPRoute/app/r4', 'HTTPRoute/app/r9']);
});

test('objects are normalised once: what the store keeps is the object observe() got back from normalising, EndpointSlices compact', () => {
  const source = new Source({ kubeConfig: kc });
  const slice = (rv: number) =>
    ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: Kind.EndpointSlice,
      metadata: { name: 'eps', namespace: 'app', resourceVersion: String(rv), managedFields: [{ manager: 'kubectl' }] },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['10.0.0.1'], conditions: { ready: true } },
        { addresses: ['10.0.0.2'], conditions: { ready: true } },
      ],
    }) as unknown as Resource;
  const sliceKind: ServedKind = { kind: Kind.EndpointSlice, group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices' };
  source.observe('add', sliceKind, slice(1) as never);
  const kept = source.get(Kind.EndpointSlice, 'app', 'eps') as Resource & { endpoints: { conditions: object }[] };
  assert.equal((kept.metadata as { managedFields?: unknown }).managedFields, undefined, 'managedFields dropped');
  assert.equal(kept.endpoints[0]!.conditions, kept.endpoints[1]!.conditions, 'equal conditions are one object (compact-endpoints.ts)');
  // The informer hands back the object it cached, which is the normalised one: kept as it is, not copied again.
  source.observe('update', sliceKind, kept as never);
  assert.equal(source.get(Kind.EndpointSlice, 'app', 'eps'), kept);
});
