// `portico controller` against the real local API server (hack/cluster.sh up; CI exports
// PORTICO_KUBECONFIG). The controller runs in-process with the real translator and data
// plane; traffic goes over real sockets to real backends named by a Service + EndpointSlice.
//
//   hack/cluster.sh up && eval "$(hack/cluster.sh env)" && node --import tsx --test test/k8s/controller.test.ts

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import os from 'node:os';
import type { Engine } from '../../src/dataplane/engine-api.js';
import type { Resource } from '../../src/api/types.js';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { runController, type RunningController } from '../../src/controller/index.js';
import { StatusWriter } from '../../src/controller/status-writer.js';
import { classify } from '../../src/controller/relevance.js';
import { LoopbackAllocator } from '../../src/controller/addresses.js';
import { loadPipeline } from '../../src/cli/controller.js';
import type { TranslateFn } from '../../src/controller/loop.js';
import type { EngineOptions } from '../../src/dataplane/engine-api.js';
import {
  ApiServerProxy,
  apply,
  getObj,
  httpGet,
  installGatewayApiCrds,
  kubeConfigFrom,
  remove,
  startBackend,
  waitFor,
} from './helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) {
  console.log('# test/k8s/controller.test.ts skipped: PORTICO_KUBECONFIG is unset (hack/cluster.sh up; eval "$(hack/cluster.sh env)")');
}

const GW = 'gateway.networking.k8s.io/v1';
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const NS = `portico-k8s-${RUN}`;
const CLASS = `portico-k8s-${RUN}`;
// A controllerName of our own: a conformance run or another test sharing the cluster is never confused with us.
const CONTROLLER = `portico.dev/k8s-test-${RUN}`;
const PORT = 18080;

interface Cond {
  type: string;
  status: string;
  reason: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}
interface GatewayStatus {
  addresses?: { value: string }[];
  conditions?: Cond[];
  listeners?: { name: string; attachedRoutes: number; conditions: Cond[] }[];
}
interface RouteStatus {
  parents?: { controllerName: string; parentRef: { name: string }; conditions: Cond[] }[];
}
type WithStatus<S> = { metadata: { generation?: number; resourceVersion?: string }; status?: S };

const isTrue = (conds: Cond[] | undefined, type: string) => conds?.some((c) => c.type === type && c.status === 'True');
const meta = (kind: string, name: string, namespace: string | undefined = NS, apiVersion = GW) => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

function route(name: string, rules: { path: string; backend: string }[], hostnames?: string[]) {
  return {
    ...meta('HTTPRoute', name),
    spec: {
      parentRefs: [{ name: 'gw' }],
      ...(hostnames ? { hostnames } : {}),
      rules: rules.map((r) => ({
        matches: [{ path: { type: 'PathPrefix', value: r.path } }],
        backendRefs: [{ name: r.backend, port: SERVICE_PORT[r.backend] }],
      })),
    },
  };
}

// The API server refuses loopback addresses in EndpointSlices, so backends listen on this
// machine's own non-loopback IPv4 address when it has one; without one, an ExternalName
// Service naming 127.0.0.1 carries the test instead (the translator's other endpoint source).
const HOST_IP = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal && !i.address.startsWith('169.254.'))?.address;

/** backendRef port per Service: 8080 mapped to the backend by the EndpointSlice, or the backend's own port for ExternalName. */
const SERVICE_PORT: Record<string, number> = {};

function serviceWithEndpoints(name: string, port: number) {
  SERVICE_PORT[name] = HOST_IP ? 8080 : port;
  if (!HOST_IP) {
    return [
      {
        ...meta('Service', name, NS, 'v1'),
        spec: { type: 'ExternalName', externalName: '127.0.0.1', ports: [{ name: 'http', port, protocol: 'TCP' }] },
      },
    ];
  }
  return [
    { ...meta('Service', name, NS, 'v1'), spec: { ports: [{ name: 'http', port: 8080, targetPort: port, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: NS, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [HOST_IP], conditions: { ready: true } }],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
  ];
}

describe('portico controller against a real API server', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset' }, () => {
  let client: ApiClient;
  let translate: TranslateFn;
  let createEngine: (o: EngineOptions) => Engine;
  const backends: { close(): Promise<void> }[] = [];
  const engines: Engine[] = [];
  const controllers: RunningController[] = [];
  const engineOf = new Map<RunningController, Engine>();
  const proxies: ApiServerProxy[] = [];

  async function start(opts: { range: string; server?: string; lease?: boolean; id?: string }) {
    const engine = createEngine({});
    engines.push(engine);
    const c = await runController({
      kubeConfig: kubeConfigFrom(KUBECONFIG!, opts.server),
      engine,
      translate,
      controllerName: CONTROLLER,
      addressMode: 'loopback',
      loopbackRange: opts.range,
      debounceMs: 50,
      backoffMaxMs: 1000,
      rediscoverMs: 5000,
      admin: '127.0.0.1:0',
      leaderElection: opts.lease
        ? { namespace: NS, name: `portico-${RUN}`, identity: opts.id!, leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 300 }
        : undefined,
      log: (m) => {
        if (process.env.PORTICO_TEST_VERBOSE) console.error(`[${opts.id ?? opts.range}] ${m}`);
      },
    });
    controllers.push(c);
    engineOf.set(c, engine);
    return c;
  }
  /** Stops a controller and closes its engine, freeing its listen addresses for the next test. */
  async function stop(c: RunningController) {
    await c.stop();
    controllers.splice(controllers.indexOf(c), 1);
    const engine = engineOf.get(c)!;
    await engine.close(0);
    engines.splice(engines.indexOf(engine), 1);
  }
  function proxy(): ApiServerProxy {
    const p = new ApiServerProxy(new URL(kubeConfigFrom(KUBECONFIG!).getCurrentCluster()!.server));
    proxies.push(p);
    return p;
  }

  const gatewayStatus = async () =>
    (await getObj<WithStatus<GatewayStatus>>(client, meta('Gateway', 'gw')))?.status;
  const routeParents = async (name: string) =>
    ((await getObj<WithStatus<RouteStatus>>(client, meta('HTTPRoute', name)))?.status?.parents ?? []).filter(
      (p) => p.controllerName === CONTROLLER,
    );

  before(async () => {
    ({ translate, createEngine } = await loadPipeline());
    client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    await installGatewayApiCrds(client);
    const web = await startBackend('web', HOST_IP ?? '127.0.0.1');
    const web2 = await startBackend('web2', HOST_IP ?? '127.0.0.1');
    backends.push(web, web2);
    await apply(client, meta('Namespace', NS, undefined, 'v1'));
    for (const o of [...serviceWithEndpoints('web', web.port), ...serviceWithEndpoints('web2', web2.port)]) {
      await apply(client, o);
    }
    await apply(client, { ...meta('GatewayClass', CLASS, undefined), spec: { controllerName: CONTROLLER } });
    await apply(client, {
      ...meta('Gateway', 'gw'),
      spec: {
        gatewayClassName: CLASS,
        listeners: [{ name: 'http', port: PORT, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }],
      },
    });
    await apply(client, route('app', [{ path: '/', backend: 'web' }]));
  });

  after(async () => {
    for (const c of [...controllers]) await c.stop();
    for (const e of engines) await e.close(0);
    for (const p of proxies) await p.down();
    for (const b of backends) await b.close();
    if (client) {
      await remove(client, meta('GatewayClass', CLASS, undefined)).catch(() => {});
      await remove(client, meta('Namespace', NS, undefined, 'v1')).catch(() => {});
    }
  });

  test('statuses reach the API server, traffic flows, and the data plane rides out an API server outage', async () => {
    const outage = proxy();
    const server = await outage.up();
    const c = await start({ range: '127.77.0.0/16', server });
    await c.started;

    const cls = await waitFor('GatewayClass Accepted', async () => {
      const gc = await getObj<WithStatus<{ conditions?: Cond[] }>>(client, meta('GatewayClass', CLASS, undefined));
      return isTrue(gc?.status?.conditions, 'Accepted') ? gc : undefined;
    });
    assert.ok(cls);
    const gw = await waitFor('Gateway Accepted + Programmed with a loopback address', async () => {
      const s = await gatewayStatus();
      return isTrue(s?.conditions, 'Accepted') && isTrue(s?.conditions, 'Programmed') && s?.addresses?.length ? s : undefined;
    });
    const addr = gw.addresses![0]!.value;
    assert.match(addr, /^127\.77\.\d+\.\d+$/);
    const parents = await waitFor('HTTPRoute Accepted + ResolvedRefs', async () => {
      const p = await routeParents('app');
      return p.length === 1 && isTrue(p[0]!.conditions, 'Accepted') && isTrue(p[0]!.conditions, 'ResolvedRefs') ? p : undefined;
    });
    assert.equal(parents[0]!.parentRef.name, 'gw');
    await waitFor('listener attachedRoutes = 1', async () => (await gatewayStatus())?.listeners?.[0]?.attachedRoutes === 1);

    const r1 = await waitFor('traffic through the gateway', async () => {
      const r = await httpGet(addr, PORT, '/hello');
      return r.status === 200 ? r : undefined;
    });
    assert.equal(JSON.parse(r1.body).backend, 'web');
    assert.equal(JSON.parse(r1.body).path, '/hello');

    // A spec change is served and reported; lastTransitionTime of unchanged conditions stays.
    const acceptedAt = gw.conditions!.find((x) => x.type === 'Accepted')!.lastTransitionTime;
    assert.ok(acceptedAt, 'the writer stamps lastTransitionTime');
    await apply(client, route('app', [{ path: '/', backend: 'web' }, { path: '/v2', backend: 'web2' }]));
    await waitFor('the new rule is served', async () => JSON.parse((await httpGet(addr, PORT, '/v2/x')).body).backend === 'web2');
    await waitFor('route status observes generation 2', async () =>
      (await routeParents('app'))[0]?.conditions.every((x) => x.observedGeneration === 2),
    );
    const after = await gatewayStatus();
    assert.equal(after!.conditions!.find((x) => x.type === 'Accepted')!.lastTransitionTime, acceptedAt);

    // Our own status writes must not trigger rebuilds. The cluster may be shared (a conformance
    // run creating namespaces), so rebuilds are bounded by the changes from elsewhere that could
    // cause one: with nobody else about, that bound is zero.
    let outside = 0;
    c.source.onChange((ch) => {
      const ours = ch.resource.metadata.namespace === NS && ch.resource.metadata.name === 'unrelated';
      if (!ours && classify(ch, new Set()) !== 'status-only') outside++;
    });
    await c.loop.settle();
    await c.writer.idle();
    await new Promise((r) => setTimeout(r, 1000));
    const rebuilds = c.loop.stats.rebuilds;
    const writes = c.writer.stats.writes;
    const outsideBefore = outside;
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(c.loop.stats.rebuilds - rebuilds <= outside - outsideBefore, 'no rebuild without a spec change');
    assert.equal(c.writer.stats.writes, writes, 'no status write when nothing changed');
    assert.ok(c.loop.stats.skippedStatusOnly > 0, 'status echoes were seen and skipped');

    // A Secret nobody references does not cost a rebuild. Settled first: a change from elsewhere
    // counted in `outside` before the snapshot below must not have its rebuild land after it (seen
    // once on a fresh cluster, whose controllers were still writing objects into new namespaces).
    await c.loop.settle();
    const unrelated = c.loop.stats.skippedUnreferenced;
    const rebuildsBeforeSecret = c.loop.stats.rebuilds;
    const outsideBeforeSecret = outside;
    await apply(client, { ...meta('Secret', 'unrelated', NS, 'v1'), stringData: { a: 'b' } });
    await waitFor('the Secret event arrives', () => c.loop.stats.skippedUnreferenced > unrelated);
    await c.loop.settle();
    assert.ok(c.loop.stats.rebuilds - rebuildsBeforeSecret <= outside - outsideBeforeSecret, 'the Secret caused no rebuild');

    // The API server goes away: the data plane keeps serving the last good config.
    await outage.down();
    await apply(client, route('app', [{ path: '/', backend: 'web' }, { path: '/v2', backend: 'web2' }, { path: '/v3', backend: 'web2' }]));
    await new Promise((r) => setTimeout(r, 1500));
    const during = await httpGet(addr, PORT, '/v3');
    assert.equal(JSON.parse(during.body).backend, 'web', 'still the old config: /v3 falls through to /');
    assert.equal(JSON.parse((await httpGet(addr, PORT, '/v2')).body).backend, 'web2');

    // ... and resyncs when it comes back.
    await outage.up();
    await waitFor('the change made during the outage is served', async () =>
      JSON.parse((await httpGet(addr, PORT, '/v3')).body).backend === 'web2',
    );
    await waitFor('route status observes generation 3', async () =>
      (await routeParents('app'))[0]?.conditions.every((x) => x.observedGeneration === 3),
    );
    await stop(c);
    await outage.down();
  });

  test('a listener port another process holds: PortUnavailable in the API, programmed once it is free', async () => {
    const range = '127.80.0.0/16';
    // The controller derives each Gateway's loopback address from namespace/name, so the test can take it first.
    const addr = new LoopbackAllocator(range).addressFor(NS, 'gw');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(PORT, addr, r));
    const c = await start({ range });
    try {
      await c.started;
      const blocked = await waitFor('listener Accepted False PortUnavailable', async () => {
        const s = await gatewayStatus();
        const accepted = s?.listeners?.[0]?.conditions?.find((x) => x.type === 'Accepted');
        return accepted?.status === 'False' && accepted.reason === 'PortUnavailable' ? s : undefined;
      });
      assert.match(blocked.listeners![0]!.conditions!.find((x) => x.type === 'Accepted')!.message ?? '', /EADDRINUSE/);
      assert.ok(!isTrue(blocked.conditions, 'Programmed'), 'the Gateway has no programmed listener');
      await new Promise((r) => blocker.close(r));
      await waitFor('programmed after the periodic retry', async () => isTrue((await gatewayStatus())?.conditions, 'Programmed'), 30_000);
      const r = await waitFor('traffic on the freed port', async () => {
        const res = await httpGet(addr, PORT, '/hello');
        return res.status === 200 ? res : undefined;
      });
      assert.equal(JSON.parse(r.body).backend, 'web');
    } finally {
      blocker.close();
      await stop(c);
    }
  });

  test('leader election: two controllers, one status writer, failover on stop', async () => {
    const a = await start({ range: '127.78.0.0/16', lease: true, id: 'replica-a' });
    const b = await start({ range: '127.79.0.0/16', lease: true, id: 'replica-b' });
    await Promise.all([a.started, b.started]);
    const leader = await waitFor('one leader', () => {
      const l = [a, b].filter((c) => c.elector!.isLeader);
      return l.length === 1 ? l[0] : undefined;
    });
    const follower = leader === a ? b : a;
    const leaderRange = leader === a ? /^127\.78\./ : /^127\.79\./;

    await waitFor("the leader's address is in status", async () => leaderRange.test((await gatewayStatus())?.addresses?.[0]?.value ?? ''));
    // every replica serves traffic, each on its own address
    for (const c of [a, b]) {
      const port = c.loop.lastIR!.ports.find((p) => p.port === PORT)!;
      await waitFor(`replica on ${port.address} serves`, async () => (await httpGet(port.address, PORT, '/')).status === 200);
    }

    await apply(client, route('le', [{ path: '/le', backend: 'web2' }]));
    await waitFor('route le Accepted', async () => isTrue((await routeParents('le'))[0]?.conditions, 'Accepted'));
    assert.ok(leader.writer.stats.writes > 0, 'the leader wrote');
    assert.equal(follower.writer.stats.writes, 0, 'the follower never writes');
    assert.equal([a, b].filter((c) => c.elector!.isLeader).length, 1);

    // The leader stops and releases its lease: the follower takes over and writes.
    await stop(leader);
    await waitFor('the follower becomes leader', () => follower.elector!.isLeader, 10000);
    const followerRange = follower === a ? /^127\.78\./ : /^127\.79\./;
    await waitFor("the new leader's address replaces the old one", async () =>
      followerRange.test((await gatewayStatus())?.addresses?.[0]?.value ?? ''),
    );
    await apply(client, route('le', [{ path: '/le', backend: 'web2' }], ['le.example.com']));
    await waitFor('the new leader reports generation 2', async () =>
      (await routeParents('le'))[0]?.conditions.every((x) => x.observedGeneration === 2),
    );
    assert.ok(follower.writer.stats.writes > 0);
    await stop(follower);
  });

  test('a leader cut off from the API server stops writing before the other replica takes over', async () => {
    const cut = [proxy(), proxy()];
    const a = await start({ range: '127.78.0.0/16', lease: true, id: 'cut-a', server: await cut[0]!.up() });
    const b = await start({ range: '127.79.0.0/16', lease: true, id: 'cut-b', server: await cut[1]!.up() });
    await Promise.all([a.started, b.started]);
    const leader = await waitFor('one leader', () => {
      const l = [a, b].filter((c) => c.elector!.isLeader);
      return l.length === 1 ? l[0] : undefined;
    });
    const follower = leader === a ? b : a;
    const leaderProxy = cut[leader === a ? 0 : 1]!;

    let leaderLostAt = 0;
    let followerWonAt = 0;
    const watch = setInterval(() => {
      if (!leaderLostAt && !leader.writer.isEnabled) leaderLostAt = Date.now();
      if (!followerWonAt && follower.writer.isEnabled) followerWonAt = Date.now();
    }, 10);
    watch.unref();
    const cutAt = Date.now();
    await leaderProxy.down();
    await waitFor('the other replica takes over', () => followerWonAt > 0, 15000);
    clearInterval(watch);
    assert.ok(leaderLostAt > 0, 'the cut-off leader stepped down');
    assert.ok(leaderLostAt < followerWonAt, `never two writers: stepped down at +${leaderLostAt - cutAt} ms, taken over at +${followerWonAt - cutAt} ms`);
    assert.ok(leaderLostAt - cutAt <= 3000 + 300 + 500, 'within the renew deadline (3 s) and a retry period');

    // the cut-off replica keeps serving its last config meanwhile
    const port = leader.loop.lastIR!.ports.find((p) => p.port === PORT)!;
    assert.equal((await httpGet(port.address, PORT, '/')).status, 200);

    // back online, it finds the lease taken and stays a follower
    await leaderProxy.up();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(leader.elector!.isLeader, false);
    assert.equal(follower.elector!.isLeader, true);
    await stop(leader);
    await stop(follower);
  });

  test('status writer: a write from a stale read gets 409, is retried on a fresh read, and keeps other controllers\' entries', async () => {
    const obj = await apply(client, route('conflict', [{ path: '/c', backend: 'web' }]));
    const stale = { ...obj, metadata: { ...obj.metadata } } as unknown as Resource;
    const foreign = {
      parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'elsewhere', namespace: NS },
      controllerName: 'example.com/other-controller',
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }],
    };
    // another controller writes its entry after our (now stale) read
    await client.json('PUT', `/apis/${GW}/namespaces/${NS}/httproutes/conflict/status`, { body: { ...obj, status: { parents: [foreign] } } });

    const writer = new StatusWriter({
      controllerName: CONTROLLER,
      store: {
        client,
        get: () => stale,
        list: () => [],
        served: () => ({ kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' }),
        remember: () => {},
      },
    });
    writer.setEnabled(true);
    writer.setDesired([
      {
        kind: 'HTTPRoute',
        namespace: NS,
        name: 'conflict',
        generation: 1,
        status: { parents: [{ parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', namespace: NS }, controllerName: CONTROLLER, conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', observedGeneration: 1 }] }] },
      },
    ]);
    await writer.idle();
    writer.stop();
    assert.equal(writer.stats.conflicts, 1, 'the stale write was refused once');
    assert.equal(writer.stats.writes, 1);
    const stored = await getObj<WithStatus<RouteStatus>>(client, meta('HTTPRoute', 'conflict'));
    const parents = stored!.status!.parents!;
    assert.deepEqual(parents.map((p) => p.controllerName), ['example.com/other-controller', CONTROLLER]);
    assert.deepEqual(parents[0], foreign, 'the other controller\'s entry is byte for byte what it wrote');
  });
});
