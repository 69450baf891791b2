// The stream's pieces without sockets: frames, entries and hashes, assembling full snapshots
// and (for issue 15) deltas, the client's IR checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sealKey } from '../../src/ir/keys.js';
import type { HTTPRouteEntry, IR } from '../../src/ir/types.js';
import { SyncError } from '../../src/sync/errors.js';
import { encodeFrame, FrameReader } from '../../src/sync/frames.js';
import { assemble, entriesOf, fullSnapshot, irOf } from '../../src/sync/snapshot.js';
import { checkIR, IRChecker } from '../../src/sync/validate.js';
import { DeltaDecoder, DeltaEncoder } from '../../src/dataplane/ir-delta.js';
import { applyEdits, insertedOf, madeFrom } from '../../src/dataplane/router/list-diff.js';
import { gatewayIR, merge } from './helpers.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SyncError, String(e));
    return e.code;
  }
  return 'no error';
};

test('frames survive any split, carry sealed keys, and a too large one is refused', () => {
  const holder = sealKey({ secret: 'ns/cert', certPem: 'C' }, 'KEY');
  const bytes = Buffer.concat([encodeFrame({ type: 'ping' }), encodeFrame({ type: 'x', holder }), encodeFrame({ n: 3 })]);
  for (const step of [1, 3, 7, bytes.length]) {
    const got: unknown[] = [];
    const r = new FrameReader(1024, (m) => got.push(m));
    for (let i = 0; i < bytes.length; i += step) r.push(bytes.subarray(i, i + step));
    assert.equal(got.length, 3, `step ${step}`);
    const h = (got[1] as { holder: { keyPem: string } }).holder;
    assert.equal(h.keyPem, 'KEY', 'the key crossed');
    assert.ok(!JSON.stringify(h).includes('KEY'), 'and is sealed again on arrival');
  }
  assert.equal(code(() => new FrameReader(10, () => undefined).push(encodeFrame({ long: 'x'.repeat(20) }))), 'SYNC_FRAME_TOO_LARGE');
  const junk = Buffer.from('\0\0\0\x03{{{');
  assert.equal(code(() => new FrameReader(10, () => undefined).push(junk)), 'SYNC_BAD_MESSAGE');
});

test('a full snapshot assembles back to the same IR; a changed entry changes its hash only', () => {
  const ir = merge(gatewayIR('a/gw', 1001, 2001, 'x'), gatewayIR('a/gw2', 1002, 2002, 'y'));
  const e = entriesOf(ir);
  const msg = JSON.parse(JSON.stringify(fullSnapshot('a/gw', 'ep', 1, e)));
  assert.deepEqual(irOf(assemble(undefined, msg)), ir);
  const changed = merge(gatewayIR('a/gw', 1001, 2001, 'x'), gatewayIR('a/gw2', 1002, 2003, 'y'));
  const e2 = entriesOf(changed);
  assert.notEqual(e2.hash, e.hash);
  assert.equal(e2.ports.get('127.0.0.1:1001/HTTP')!.hash, e.ports.get('127.0.0.1:1001/HTTP')!.hash);
  assert.equal(e2.ports.get('127.0.0.1:1002/HTTP')!.hash, e.ports.get('127.0.0.1:1002/HTTP')!.hash);
  assert.notEqual(e2.clusters.get('a/backend:80')!.hash, e.clusters.get('a/backend:80')!.hash);
});

test('deltas (issue 15) assemble on the held config; a wrong hash or a missing entry is inconsistent', () => {
  const v1: IR = merge(gatewayIR('a/gw', 1001, 2001, 'x'), gatewayIR('b/gw', 1002, 2002, 'y'));
  const v2: IR = merge(gatewayIR('a/gw', 1001, 2001, 'x'), gatewayIR('b/gw', 1003, 2002, 'y'));
  const held = assemble(undefined, fullSnapshot('g', 'ep', 1, entriesOf(v1)));
  const e2 = entriesOf(v2);
  const delta = {
    ...fullSnapshot('g', 'ep', 2, e2),
    base: 1,
    ports: { '127.0.0.1:1002/HTTP': null, '127.0.0.1:1003/HTTP': e2.ports.get('127.0.0.1:1003/HTTP')! },
    clusters: {},
  };
  assert.deepEqual(irOf(assemble(held, delta)), v2);
  assert.equal(code(() => assemble(undefined, delta)), 'SYNC_SNAPSHOT_INCONSISTENT');
  assert.equal(code(() => assemble(held, { ...delta, hash: 'f'.repeat(32) })), 'SYNC_SNAPSHOT_INCONSISTENT');
  assert.equal(code(() => assemble(held, { ...delta, ports: {} })), 'SYNC_SNAPSHOT_INCONSISTENT');
  assert.deepEqual(irOf(held), v1, 'the held config is never changed');
});

test('checkIR: what the client refuses before the engine sees it', () => {
  const ok = gatewayIR('a/gw', 1001, 2001, 'x');
  checkIR(ok, 'a/gw');
  assert.equal(code(() => checkIR(ok, 'b/gw')), 'SYNC_SNAPSHOT_INVALID', 'another Gateway\'s listener');
  assert.equal(code(() => checkIR({ ...ok, clusters: {} }, 'a/gw')), 'SYNC_SNAPSHOT_INVALID', 'dangling cluster');
  assert.equal(code(() => checkIR({ ...ok, ports: [{ ...ok.ports[0]!, port: 70000 }] }, 'a/gw')), 'SYNC_SNAPSHOT_INVALID');
  assert.equal(code(() => checkIR({ ...ok, ports: [ok.ports[0]!, ok.ports[0]!] }, 'a/gw')), 'SYNC_SNAPSHOT_INVALID');
});

test('IRChecker: entries found sound are skipped while clusters only come, and walked again once one goes', () => {
  const ok = gatewayIR('a/gw', 1001, 2001, 'x');
  const [cluster] = Object.keys(ok.clusters);
  const checker = new IRChecker();
  checker.check(ok, 'a/gw');
  // The same entry objects with one more cluster (what a delta hands over): still servable.
  const more: IR = { ...ok, clusters: { ...ok.clusters, 'a/other:80': { ...ok.clusters[cluster!]!, name: 'a/other:80' } } };
  checker.check(more, 'a/gw');
  // The cluster the held entry names is gone: the entry is walked again and found dangling.
  assert.equal(code(() => checker.check({ ...ok, clusters: { 'a/other:80': more.clusters['a/other:80']! } }, 'a/gw')), 'SYNC_SNAPSHOT_INVALID');
  // A new entry naming a missing cluster is walked though the others are known sound.
  const vh = ok.ports[0]!.listeners[0]!.virtualHosts![0]!;
  const added = { ...vh.routes[0]!, backends: [{ cluster: 'a/missing:80', weight: 1 }] };
  const withAdded: IR = { ...ok, ports: [{ ...ok.ports[0]!, listeners: [{ ...ok.ports[0]!.listeners[0]!, virtualHosts: [{ ...vh, routes: [...vh.routes, added] }] }] }] };
  const fresh = new IRChecker();
  fresh.check(ok, 'a/gw');
  assert.equal(code(() => fresh.check(withAdded, 'a/gw')), 'SYNC_SNAPSHOT_INVALID');
  // Listener checks are not cached: another Gateway's listener is refused with sound entries.
  assert.equal(code(() => fresh.check(ok, 'b/gw')), 'SYNC_SNAPSHOT_INVALID');
});

test('IRChecker: a list the decoder edited is checked by the entries the edits put in, and walked whole when its base was never found sound', () => {
  const ok = gatewayIR('a/gw', 1001, 2001, 'x');
  const listener = ok.ports[0]!.listeners[0]!;
  const vh = listener.virtualHosts![0]!;
  const entry = (k: number, cluster = Object.keys(ok.clusters)[0]!) => ({ ...vh.routes[0]!, match: { path: { type: 'PathPrefix' as const, value: `/r${k}` } }, backends: [{ cluster, weight: 1 }] });
  const withRoutes = (routes: HTTPRouteEntry[]): IR => ({ ...ok, ports: [{ ...ok.ports[0]!, listeners: [{ ...listener, virtualHosts: [{ ...vh, routes }] }] }] });
  const routes = Array.from({ length: 20 }, (_, k) => entry(k));
  const encoder = new DeltaEncoder();
  const decoder = new DeltaDecoder();
  const checker = new IRChecker();
  const step = (ir: IR): IR => {
    const got = decoder.apply(encoder.encode(ir).text);
    assert.notEqual(got, 'resync');
    return got as IR;
  };
  const first = step(withRoutes(routes));
  checker.check(first, 'a/gw');
  // One route more: the decoder edits the list it holds.
  const added = entry(20);
  const second = step(withRoutes([...routes, added]));
  const list = second.ports[0]!.listeners[0]!.virtualHosts![0]!.routes;
  const made = madeFrom(list);
  assert.equal(made && insertedOf(made.diff, list).length, 1, 'sent as an edit of the held list');
  checker.check(second, 'a/gw');
  // One more naming a cluster the config does not carry: refused, though its list's base is sound.
  const bad = step(withRoutes([...routes, added, entry(21, 'a/missing:80')]));
  const badList = bad.ports[0]!.listeners[0]!.virtualHosts![0]!.routes;
  const badMade = madeFrom(badList);
  assert.equal(badMade && insertedOf(badMade.diff, badList).length, 1);
  assert.equal(code(() => checker.check(bad, 'a/gw')), 'SYNC_SNAPSHOT_INVALID');
  // An edited list whose base this checker never found sound is walked whole: a dangling entry of the base is found.
  const base = [entry(0, 'a/missing:80'), ...routes.slice(1)];
  const edited = applyEdits<HTTPRouteEntry, HTTPRouteEntry>(base, [20, 0, 1, entry(30)], (e) => e)!;
  assert.equal(code(() => new IRChecker().check(withRoutes(edited), 'a/gw')), 'SYNC_SNAPSHOT_INVALID');
});

test('IRChecker: a cluster is checked when it is a new object, and a refused config leaves nothing behind as checked', () => {
  const ok = gatewayIR('a/gw', 1001, 2001, 'x');
  const [name] = Object.keys(ok.clusters);
  const checker = new IRChecker();
  checker.check(ok, 'a/gw');
  // One cluster replaced by a broken object (an EndpointSlice change gone wrong): refused.
  const broken: IR = { ...ok, clusters: { ...ok.clusters, [name!]: { ...ok.clusters[name!]!, endpoints: undefined as never } } };
  assert.equal(code(() => checker.check(broken, 'a/gw')), 'SYNC_SNAPSHOT_INVALID');
  // Asked again, it is refused again: the refused config's clusters were not taken as checked.
  assert.equal(code(() => checker.check(broken, 'a/gw')), 'SYNC_SNAPSHOT_INVALID');
  // The last good config, and one with a sound new cluster object, pass.
  checker.check(ok, 'a/gw');
  checker.check({ ...ok, clusters: { ...ok.clusters, [name!]: { ...ok.clusters[name!]! } } }, 'a/gw');
});
