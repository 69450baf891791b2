// The controller reports an Ingress's status.loadBalancer as it reports its Gateway's
// addresses: a wildcard bind address becomes the reachable one (--gateway-address / POD_IP);
// an Ingress no longer served loses the status.loadBalancer Portico wrote, and only that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportedIngress } from './loop.js';
import { ingressReleaser, releasedIngresses } from './ingress-status.js';
import { StatusWriter, type StatusStore } from './status-writer.js';
import { Snapshot } from '../store/snapshot.js';
import type { Resource } from '../api/types.js';
import type { ObjectStatus } from '../translate/types.js';

const report = (bound: string) => (bound === '0.0.0.0' ? '10.1.2.3' : undefined);

test('a wildcard address becomes the reported one, others and hostnames stay, duplicates go', () => {
  const s = reportedIngress({ kind: 'Ingress', namespace: 'shop', name: 'legacy', status: { loadBalancer: { ingress: [{ ip: '0.0.0.0' }, { ip: '127.0.0.5' }, { hostname: 'lb.example.com' }, { ip: '0.0.0.0' }] } } }, report);
  assert.deepEqual(s.status, { loadBalancer: { ingress: [{ ip: '10.1.2.3' }, { ip: '127.0.0.5' }, { hostname: 'lb.example.com' }] } });
});

test('no address yet: the status is left as it is', () => {
  const o = { kind: 'Ingress', namespace: 'shop', name: 'legacy', status: { loadBalancer: {} } };
  assert.equal(reportedIngress(o, report), o);
});

const ing = (name: string, ...lb: { ip?: string; hostname?: string }[]): Resource => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'shop', generation: 2 },
  spec: {},
  ...(lb.length ? { status: { loadBalancer: { ingress: lb } } } : {}),
});
const gateway = (...values: string[]): ObjectStatus => ({ kind: 'Gateway', namespace: 'shop', name: 'web', status: { addresses: values.map((value) => ({ type: 'IPAddress', value })) } });

test('released: only unserved Ingresses whose every status address is ours, compare-and-clear', () => {
  const ingresses = [ing('moved', { ip: '10.1.2.3' }), ing('served', { ip: '10.1.2.3' }), ing('nginx', { ip: '34.5.6.7' }), ing('mixed', { ip: '10.1.2.3' }, { ip: '34.5.6.7' }), ing('none')];
  const statuses: ObjectStatus[] = [{ kind: 'Ingress', namespace: 'shop', name: 'served', status: { loadBalancer: { ingress: [{ ip: '0.0.0.0' }] } } }];
  const out = releasedIngresses(ingresses, statuses, new Set(['10.1.2.3']));
  assert.deepEqual(out, [{ kind: 'Ingress', namespace: 'shop', name: 'moved', status: { loadBalancer: {} }, expect: { loadBalancer: { ingress: [{ ip: '10.1.2.3' }] } } }]);
});

test('releaser: ours are the Gateways\' reported addresses, the wildcard\'s reported address, and what was written before', () => {
  const release = ingressReleaser(report);
  const snap = (...r: Resource[]) => new Snapshot(r.map((resource) => ({ resource })));
  const cleared = (out: readonly ObjectStatus[]) => out.filter((s) => s.kind === 'Ingress' && s.expect).map((s) => s.name);

  // A Gateway bound to the wildcard is reported as 10.1.2.3; loopback addresses stay as bound.
  assert.deepEqual(cleared(release(snap(ing('a', { ip: '10.1.2.3' }), ing('b', { ip: '127.0.0.9' }), ing('c', { hostname: 'lb.other.example' })), [gateway('127.0.0.9')])), ['a', 'b']);
  // With no Gateway at all (say `--ingress-controller none` after generated Gateways), the wildcard's reported address still counts.
  assert.deepEqual(cleared(release(snap(ing('a', { ip: '10.1.2.3' })), [])), ['a']);

  // Served once on a loopback address whose Gateway is gone since: remembered.
  const loopback = ingressReleaser();
  loopback(snap(ing('d')), [{ kind: 'Ingress', namespace: 'shop', name: 'd', status: { loadBalancer: { ingress: [{ ip: '127.0.0.44' }] } } }]);
  assert.deepEqual(cleared(loopback(snap(ing('d', { ip: '127.0.0.44' }), ing('e', { ip: '127.0.0.45' })), [])), ['d']);
  // Nothing to clear: the statuses are returned as they are.
  const same: ObjectStatus[] = [gateway('127.0.0.9')];
  assert.equal(loopback(snap(ing('e', { ip: '10.9.9.9' })), same), same);
  // No stored Ingress at all: the statuses as they are, not walked.
  const walked: ObjectStatus[] = new Proxy([gateway('10.1.2.3')], { get: (t, k) => (k === 'length' || typeof k === 'symbol' ? Reflect.get(t, k) : assert.fail('statuses walked')) });
  assert.equal(release(snap(), walked), walked);
});

test('the writer clears while the stored status is still ours, and leaves one another controller wrote since', async () => {
  const objects = new Map<string, Resource>([
    ['ours', ing('ours', { ip: '10.1.2.3' })],
    ['taken', ing('taken', { ip: '34.5.6.7' })],
  ]);
  const puts: { path: string; status: unknown }[] = [];
  const store: StatusStore = {
    client: {
      json: async (method: string, path: string, o?: { body?: Resource }) => {
        assert.equal(method, 'PUT');
        puts.push({ path, status: o?.body?.status });
        return o!.body!;
      },
    } as unknown as StatusStore['client'],
    get: (_k, _ns, name) => objects.get(name),
    list: () => [],
    served: () => ({ kind: 'Ingress' as never, group: 'networking.k8s.io', version: 'v1', plural: 'ingresses' }),
    remember: () => {},
  };
  const writer = new StatusWriter({ store, controllerName: 'portico.dev/gateway-controller' });
  writer.setEnabled(true);
  // "taken" was judged ours at rebuild time; another controller wrote its address before the write.
  writer.setDesired([
    { kind: 'Ingress', namespace: 'shop', name: 'ours', status: { loadBalancer: {} }, expect: { loadBalancer: { ingress: [{ ip: '10.1.2.3' }] } } },
    { kind: 'Ingress', namespace: 'shop', name: 'taken', status: { loadBalancer: {} }, expect: { loadBalancer: { ingress: [{ ip: '10.1.2.3' }] } } },
  ]);
  await writer.idle();
  assert.deepEqual(puts, [{ path: '/apis/networking.k8s.io/v1/namespaces/shop/ingresses/ours/status', status: { loadBalancer: {} } }]);
  assert.equal(writer.stats.skipped, 1);
});
