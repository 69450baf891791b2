// The controller's control-plane metrics against the real local API server: two replicas with
// leader election, scraped on their admin listeners' /metrics while real objects change, a real
// request crosses the in-process data plane, and one replica loses the API server.
//
//   flock /root/.cache/portico/cluster-use.lock bash -c 'hack/cluster.sh up && eval "$(hack/cluster.sh env)" && \
//     node --import tsx --test test/k8s/controller-metrics.test.ts'

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import type { Engine, EngineOptions } from '../../src/dataplane/engine-api.js';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { runController, type RunningController } from '../../src/controller/index.js';
import { loadPipeline } from '../../src/cli/controller.js';
import type { TranslateFn } from '../../src/controller/loop.js';
import { ApiServerProxy, apply, getObj, httpGet, installGatewayApiCrds, kubeConfigFrom, remove, startBackend, waitFor } from './helpers.js';
import { parse, promtool, sum, type Sample } from '../observability/metrics-helpers.js';

const KUBECONFIG = process.env.PORTICO_KUBECONFIG;
if (!KUBECONFIG) console.log('# test/k8s/controller-metrics.test.ts skipped: PORTICO_KUBECONFIG is unset');

const GW = 'gateway.networking.k8s.io/v1';
const RUN = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const NS = `portico-cpm-${RUN}`;
const CLASS = `portico-cpm-${RUN}`;
const CONTROLLER = `portico.dev/cpm-test-${RUN}`;
const PORT = 18081;

const meta = (kind: string, name: string, namespace: string | undefined = NS, apiVersion = GW) => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});
// The API server refuses loopback EndpointSlice addresses: the backend listens on a non-loopback IPv4 when there is one.
const HOST_IP = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal && !i.address.startsWith('169.254.'))?.address;

function route(name: string, port: number, sectionName?: string) {
  return {
    ...meta('HTTPRoute', name),
    spec: {
      parentRefs: [{ name: 'gw', ...(sectionName ? { sectionName } : {}) }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${name}` } }], backendRefs: [{ name: 'web', port }] }],
    },
  };
}

describe('controller metrics against a real API server', { skip: !KUBECONFIG && 'PORTICO_KUBECONFIG is unset' }, () => {
  let client: ApiClient;
  let translate: TranslateFn;
  let createEngine: (o: EngineOptions) => Engine;
  let backend: { port: number; close(): Promise<void> } | undefined;
  const engines: Engine[] = [];
  const controllers: RunningController[] = [];
  const proxies: ApiServerProxy[] = [];
  let servicePort = 8080;

  async function start(range: string, id: string, server?: string): Promise<RunningController> {
    const engine = createEngine({});
    engines.push(engine);
    const c = await runController({
      kubeConfig: kubeConfigFrom(KUBECONFIG!, server),
      engine,
      translate,
      controllerName: CONTROLLER,
      addressMode: 'loopback',
      loopbackRange: range,
      debounceMs: 50,
      backoffMaxMs: 500,
      rediscoverMs: 5000,
      admin: '127.0.0.1:0',
      leaderElection: { namespace: NS, name: `portico-${RUN}`, identity: id, leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 300 },
      log: (m) => {
        if (process.env.PORTICO_TEST_VERBOSE) console.error(`[${id}] ${m}`);
      },
    });
    controllers.push(c);
    return c;
  }
  async function scrape(c: RunningController): Promise<{ text: string; S: Sample[] }> {
    const a = c.admin!.address;
    const r = await fetch(`http://${a.address}:${a.port}/metrics`);
    assert.equal(r.status, 200);
    const text = await r.text();
    return { text, S: parse(text) };
  }

  before(async () => {
    ({ translate, createEngine } = await loadPipeline());
    client = new ApiClient(kubeConfigFrom(KUBECONFIG!));
    await installGatewayApiCrds(client);
    backend = await startBackend('web', HOST_IP ?? '127.0.0.1');
    await apply(client, meta('Namespace', NS, undefined, 'v1'));
    if (HOST_IP) {
      await apply(client, { ...meta('Service', 'web', NS, 'v1'), spec: { ports: [{ name: 'http', port: 8080, targetPort: backend.port, protocol: 'TCP' }] } });
      await apply(client, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-1', namespace: NS, labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [HOST_IP], conditions: { ready: true } }],
        ports: [{ name: 'http', port: backend.port, protocol: 'TCP' }],
      });
    } else {
      servicePort = backend.port;
      await apply(client, { ...meta('Service', 'web', NS, 'v1'), spec: { type: 'ExternalName', externalName: '127.0.0.1', ports: [{ name: 'http', port: backend.port, protocol: 'TCP' }] } });
    }
    await apply(client, { ...meta('GatewayClass', CLASS, undefined), spec: { controllerName: CONTROLLER } });
    await apply(client, {
      ...meta('Gateway', 'gw'),
      spec: { gatewayClassName: CLASS, listeners: [{ name: 'http', port: PORT, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }] },
    });
    await apply(client, route('app', servicePort));
  });

  after(async () => {
    for (const c of controllers) await c.stop();
    for (const e of engines) await e.close(0);
    for (const p of proxies) await p.down();
    await backend?.close();
    if (client) {
      await remove(client, meta('GatewayClass', CLASS, undefined)).catch(() => {});
      await remove(client, meta('Namespace', NS, undefined, 'v1')).catch(() => {});
    }
  });

  test('translations, applies, last good config, objects and conditions, status writes, leader, watch errors; promtool-clean', async () => {
    const t0 = Date.now() / 1000;
    const a = await start('127.83.0.0/16', 'cpm-a');
    await a.started;
    await waitFor('replica a leads', () => a.elector!.isLeader && a.writer.isEnabled);
    const cut = new ApiServerProxy(new URL(kubeConfigFrom(KUBECONFIG!).getCurrentCluster()!.server));
    proxies.push(cut);
    const b = await start('127.84.0.0/16', 'cpm-b', await cut.up());
    await b.started;

    // Gateway Programmed, route Accepted: the leader wrote them.
    const addr = await waitFor('Gateway Programmed with an address', async () => {
      const gw = await getObj<{ status?: { addresses?: { value: string }[]; conditions?: { type: string; status: string }[] } }>(client, meta('Gateway', 'gw'));
      return gw?.status?.conditions?.some((c) => c.type === 'Programmed' && c.status === 'True') ? gw.status.addresses?.[0]?.value : undefined;
    });
    const ok = await waitFor('a request through the leader\'s data plane', async () => ((await httpGet(addr, PORT, '/app/x')).status === 200 ? true : undefined));
    assert.ok(ok);

    const before = await waitFor('the leader counts a good config, status writes and the request', async () => {
      const s = await scrape(a);
      const S = s.S;
      return sum(S, 'portico_translations_total', { result: 'ok' }) >= 1 &&
        sum(S, 'portico_status_writes_total', { result: 'ok' }) >= 1 &&
        sum(S, 'portico_http_requests_total', { route_name: 'app', route_namespace: NS, code: '200' }) >= 1
        ? s
        : undefined;
    });
    const S = before.S;
    assert.ok(sum(S, 'portico_translation_duration_seconds_count') >= sum(S, 'portico_translations_total'));
    assert.ok(sum(S, 'portico_dataplane_applies_total', { result: 'ok' }) >= 1);
    assert.ok(sum(S, 'portico_dataplane_apply_duration_seconds_count') >= 1);
    const lastGood = sum(S, 'portico_config_last_good_timestamp_seconds');
    assert.ok(lastGood >= t0 - 1 && lastGood <= Date.now() / 1000 + 1, `last good ${lastGood}, test start ${t0}`);
    assert.ok(sum(S, 'portico_objects', { kind: 'HTTPRoute' }) >= 1);
    assert.ok(sum(S, 'portico_objects', { kind: 'Gateway' }) >= 1);
    assert.ok(sum(S, 'portico_object_conditions', { kind: 'Gateway', condition: 'Programmed', status: 'True' }) >= 1);
    assert.ok(sum(S, 'portico_object_conditions', { kind: 'HTTPRoute', condition: 'Accepted', status: 'True' }) >= 1);
    assert.equal(sum(S, 'portico_leader'), 1);
    assert.equal(sum(S, 'portico_informers_synced'), 1);
    assert.equal(sum(S, 'portico_http_5xx_responses_total', { route_name: 'app', route_namespace: NS }), 0);
    const bS = (await scrape(b)).S;
    assert.equal(sum(bS, 'portico_leader'), 0, 'the follower says it is not the leader');
    assert.equal(sum(bS, 'portico_status_writes_total'), 0, 'and wrote no status');
    assert.ok(sum(bS, 'portico_translations_total', { result: 'ok' }) >= 1, 'the follower translates too (it serves traffic)');

    // A route whose parentRef names a listener that does not exist: one more HTTPRoute, one more Accepted False, more writes.
    await apply(client, route('broken', servicePort, 'nope'));
    const after = await waitFor('the broken route counted as not Accepted', async () => {
      const s = (await scrape(a)).S;
      return sum(s, 'portico_object_conditions', { kind: 'HTTPRoute', condition: 'Accepted', status: 'False' }) ===
        sum(S, 'portico_object_conditions', { kind: 'HTTPRoute', condition: 'Accepted', status: 'False' }) + 1 &&
        sum(s, 'portico_status_writes_total', { result: 'ok' }) > sum(S, 'portico_status_writes_total', { result: 'ok' })
        ? s
        : undefined;
    });
    // portico_objects counts every HTTPRoute the controller sees, cluster-wide, and other runs' objects
    // may be coming and going: it must equal the API server's count whenever that count holds still.
    const apiCount = async () => {
      const l = await client.json<{ items: unknown[]; metadata: { remainingItemCount?: number } }>('GET', `/apis/${GW}/httproutes?limit=1`);
      return l.items.length + (l.metadata.remainingItemCount ?? 0);
    };
    await waitFor('portico_objects{kind="HTTPRoute"} = the API server\'s count', async () => {
      const n0 = await apiCount();
      await new Promise((r) => setTimeout(r, 1000)); // past the debounce and a translation: a change the API shows is counted by now
      const m = sum((await scrape(a)).S, 'portico_objects', { kind: 'HTTPRoute' });
      const n1 = await apiCount();
      return n0 === n1 && m === n1;
    }, 90_000);
    assert.ok(sum(after, 'portico_translations_total', { result: 'ok' }) > sum(S, 'portico_translations_total', { result: 'ok' }));
    assert.ok(sum(after, 'portico_config_last_good_timestamp_seconds') >= lastGood);
    // The route's informer event reached the data plane; every translation was answered some way
    // (one that spliced Gateways and routes together counts under both).
    assert.ok(sum(after, 'portico_change_to_serving_seconds_count') > sum(S, 'portico_change_to_serving_seconds_count'));
    assert.ok(sum(after, 'portico_translation_paths_total') >= sum(after, 'portico_translations_total', { result: 'ok' }));
    assert.ok(sum(after, 'portico_translation_paths_total', { path: 'full' }) >= 1);

    // The follower loses the API server: its informers' list/watch failures are counted per kind.
    const base = (await scrape(b)).S;
    const [r0, g0] = [sum(base, 'portico_watch_errors_total', { kind: 'HTTPRoute' }), sum(base, 'portico_watch_errors_total', { kind: 'Gateway' })];
    await cut.down();
    await waitFor('HTTPRoute and Gateway watch errors on the cut-off replica', async () => {
      const s = (await scrape(b)).S;
      return sum(s, 'portico_watch_errors_total', { kind: 'HTTPRoute' }) > r0 && sum(s, 'portico_watch_errors_total', { kind: 'Gateway' }) > g0;
    });
    await cut.up();
    await waitFor('the replica back: synced, serving', async () => sum((await scrape(b)).S, 'portico_informers_synced') === 1);

    for (const c of [a, b]) {
      const p = promtool((await scrape(c)).text);
      if (p) assert.equal(p.output.trim() + `rc=${p.code}`, 'rc=0');
      else assert.ok(!process.env.CI, 'promtool is missing (Debian package prometheus)');
    }
  });
});
