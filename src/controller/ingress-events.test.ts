// IngressEvents: one Warning Event per report line while it holds, only as leader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngressEvents } from './ingress-events.js';
import type { ApiClient } from '../sources/kubernetes.js';
import type { ReportEntry } from '../convert/types.js';

function setup() {
  const posts: { path: string; body: Record<string, unknown> }[] = [];
  let leader = true;
  const client = { json: async (_m: string, path: string, o: { body: Record<string, unknown> }) => (posts.push({ path, body: o.body }), {}) } as unknown as ApiClient;
  const events = new IngressEvents({
    client,
    get: (ns, name) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { namespace: ns, name, uid: 'u-1', resourceVersion: '7' } }),
    enabled: () => leader,
    component: 'portico.dev/gateway-controller',
    log: () => {},
    now: () => new Date('2026-01-02T03:04:05.678Z'),
  });
  return { posts, events, setLeader: (v: boolean) => (leader = v) };
}

const snippet: ReportEntry = { ingress: 'shop/legacy', item: 'configuration-snippet', status: 'not-converted', message: 'raw nginx configuration cannot be converted' };
const rewrite: ReportEntry = { ingress: 'shop/legacy', item: 'rewrite-target', status: 'approximated', message: 'as a prefix replacement' };
const fine: ReportEntry = { ingress: 'shop/legacy', item: 'ssl-redirect', status: 'converted', message: 'RequestRedirect' };

test('one Event per line that is not converted, repeated lines not again, a line that went and came back again', async () => {
  const { posts, events } = setup();
  events.report([snippet, rewrite, fine]);
  events.report([snippet, rewrite, fine]);
  await new Promise((r) => setImmediate(r));
  assert.equal(posts.length, 2);
  assert.equal(posts[0]!.path, '/api/v1/namespaces/shop/events');
  assert.deepEqual(posts[0]!.body.involvedObject, { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: 'shop', name: 'legacy', uid: 'u-1', resourceVersion: '7' });
  assert.equal(posts[0]!.body.type, 'Warning');
  assert.equal(posts[0]!.body.reason, 'NotConverted');
  assert.equal(posts[0]!.body.message, 'configuration-snippet: raw nginx configuration cannot be converted');
  assert.equal(posts[0]!.body.firstTimestamp, '2026-01-02T03:04:05Z');
  assert.equal(posts[1]!.body.reason, 'Approximated');
  events.report([rewrite]);
  events.report([snippet, rewrite]);
  await new Promise((r) => setImmediate(r));
  assert.equal(posts.length, 3);
});

test('a replica that does not lead writes nothing, and writes the lines once it leads', async () => {
  const { posts, events, setLeader } = setup();
  setLeader(false);
  events.report([snippet]);
  await new Promise((r) => setImmediate(r));
  assert.equal(posts.length, 0);
  setLeader(true);
  events.report([snippet]);
  await new Promise((r) => setImmediate(r));
  assert.equal(posts.length, 1);
});
