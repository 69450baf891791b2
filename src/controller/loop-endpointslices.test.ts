// Conformance HTTPRouteServiceTypes in one process, in every order its events can reach the
// controller: Services without selectors and EndpointSlices created empty together with an
// HTTPRoute, then the slices filled with the backend's Pod IPs (the Go test does that once the
// route is Accepted). The controller's provisioned path end to end: KubernetesSource (fed as the
// informers feed it), ControllerLoop with its relevance filter, incremental translation
// (per-gateway), a SyncServer publishing each IR, and a SyncClient standing for the Gateway's data
// plane over a real TLS-PSK socket. Whatever the order, and whether the fill lands before, during
// or after the rebuild that adds the route, the data plane must end up serving the filled
// endpoints, as a full translate() of the final objects says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '../sources/kubeconfig.js';
import { DEFAULT_CONTROLLER_NAME, GROUP_OF, type KindName } from '../api/names.js';
import type { IR } from '../ir/types.js';
import { sliceForGateway } from '../ir/slice.js';
import { KubernetesSource, type ServedKind } from '../sources/kubernetes.js';
import { Snapshot } from '../store/snapshot.js';
import { deriveGatewayKey } from '../sync/credentials.js';
import { SyncClient } from '../sync/client.js';
import { SyncServer } from '../sync/server.js';
import { translate } from '../translate/index.js';
import { incrementalTranslate } from '../translate/incremental.js';
import { ControllerLoop } from './loop.js';
import { StatusWriter } from './status-writer.js';

const NS = 'gateway-conformance-infra';
const GW = `${NS}/same-namespace`;
const POD_IP = '10.244.0.7';
const GATEWAY_KINDS = new Set((Object.keys(GROUP_OF) as KindName[]).filter((k) => GROUP_OF[k].startsWith('gateway.networking')));

const servedOf = (kind: KindName): ServedKind => ({ kind, group: GROUP_OF[kind], version: 'v1', plural: `${kind.toLowerCase()}s` });

/** The informers' side of a KubernetesSource: objects arrive through observe(), as list+watch hands them over. */
class ReplaySource extends KubernetesSource {
  private rv = 1;
  override async start(): Promise<void> {}
  override served(kind: KindName): ServedKind | undefined {
    return servedOf(kind);
  }
  override get synced(): boolean {
    return true;
  }
  put(o: Record<string, unknown> & { kind: string; metadata: Record<string, unknown> }): void {
    const r = { ...o, metadata: { ...o.metadata, resourceVersion: String(++this.rv) } };
    const had = this.get(o.kind, o.metadata.namespace as string | undefined, o.metadata.name as string) !== undefined;
    this.observe(had ? 'update' : 'add', servedOf(o.kind as KindName), r as never);
  }
}

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: NS, ...extra });
const world = [
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: DEFAULT_CONTROLLER_NAME } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: meta('same-namespace'), spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }] } },
];
const rule = (path: string, backend: string) => ({ matches: [{ path: { type: 'Exact', value: `/${path}` } }], backendRefs: [{ name: backend, port: 8080 }] });
const route = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: meta('service-types'),
  spec: { parentRefs: [{ name: 'same-namespace' }], rules: ['manual-endpointslices', 'headless', 'headless-manual-endpointslices'].map((s) => rule(s, s)) },
};
const port = { name: 'first-port', protocol: 'TCP', port: 8080, targetPort: 3000 };
const service = (name: string, spec: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'Service', metadata: meta(name), spec: { ports: [port], ...spec } });
const slice = (name: string, svc: string, family: 'IPv4' | 'IPv6', endpoints?: unknown[]) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: meta(name, { labels: { 'kubernetes.io/service-name': svc } }),
  addressType: family,
  ports: [{ name: 'first-port', port: 3000, protocol: 'TCP' }],
  ...(endpoints ? { endpoints } : {}),
});
const ready = [{ addresses: [POD_IP], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', name: 'infra-backend-v1-0', namespace: NS } }];
const MANUAL = ['manual-endpointslices', 'headless-manual-endpointslices'];
/** What the test's manifest creates (the slices empty), and the headless Service's slice from the EndpointSlice controller. */
const backends = [
  service('manual-endpointslices'),
  ...MANUAL.flatMap((s) => [slice(`${s}-ip4`, s, 'IPv4'), slice(`${s}-ip6`, s, 'IPv6')]),
  service('headless', { clusterIP: 'None', selector: { app: 'infra-backend-v1' } }),
  service('headless-manual-endpointslices', { clusterIP: 'None' }),
  slice('headless-x7k2p', 'headless', 'IPv4', ready),
];
/** setupEndpointSlices: the IPv4 slices filled (no IPv6 Pod IPs, so the IPv6 ones stay empty). */
const fills = MANUAL.map((s) => slice(`${s}-ip4`, s, 'IPv4', ready));

type Step = 'route' | 'backends' | 'fill' | 'hold' | 'release' | 'settle';

async function until(cond: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 10_000; !cond(); await new Promise((r) => setTimeout(r, 5))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

async function play(steps: readonly Step[]): Promise<void> {
  const master = randomBytes(32);
  const server = new SyncServer({ keyFor: (g) => (g === GW ? deriveGatewayKey(master, g) : undefined), host: '127.0.0.1' });
  const { port: syncPort } = await server.listen();
  let served: IR | undefined;
  const dataPlane = new SyncClient({
    host: '127.0.0.1',
    port: syncPort,
    gateway: GW,
    key: async () => deriveGatewayKey(master, GW),
    apply: async (ir) => {
      served = ir;
      return { unbound: [] };
    },
  });
  dataPlane.start();
  await until(() => server.status(GW).clients.length === 1, 'the data plane connected');

  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: 'http://127.0.0.1:9' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  const source = new ReplaySource({ kubeConfig: kc, statusUnread: GATEWAY_KINDS });
  for (const o of world) source.put(o);
  // An apply the step list holds open: the rebuild is in flight (its snapshot taken, its names indexed) until released.
  let held: (() => void) | undefined;
  let holdNext = false;
  let applies = 0;
  const incremental = incrementalTranslate(translate);
  const loop = new ControllerLoop({
    source,
    engine: {
      apply: async (ir) => {
        server.publish(ir); // as provisioned.ts's engine does
        applies++;
        if (holdNext) {
          holdNext = false;
          await new Promise<void>((r) => (held = r));
        }
        return { unbound: [] };
      },
      close: async () => undefined,
    },
    translate: incremental,
    writer: new StatusWriter({ store: source, controllerName: DEFAULT_CONTROLLER_NAME }),
    controllerName: DEFAULT_CONTROLLER_NAME,
    addressFor: () => '0.0.0.0',
    dataPlanes: 'per-gateway',
    debounceMs: 20,
  });
  try {
    await loop.start();
    for (const step of steps) {
      if (step === 'route') source.put(route);
      else if (step === 'backends') for (const o of backends) source.put(o);
      else if (step === 'fill') for (const o of fills) source.put(o);
      else if (step === 'hold') {
        const before = applies;
        holdNext = true;
        await until(() => applies > before && held !== undefined, 'a rebuild to hold');
      } else if (step === 'settle') await loop.settle();
      else {
        held!();
        held = undefined;
      }
    }
    await loop.settle();
    const expected = sliceForGateway(translate(new Snapshot(source.entries()), { controllerName: DEFAULT_CONTROLLER_NAME, addressFor: () => '0.0.0.0', dataPlanes: 'per-gateway' }).ir, GW);
    for (const s of MANUAL) assert.deepEqual(expected.clusters[`${NS}/${s}:8080`]?.endpoints, [{ address: POD_IP, port: 3000 }], `the reference serves ${s}`);
    await until(() => JSON.stringify(served?.clusters) === JSON.stringify(expected.clusters), `the data plane serving the filled endpoints (${steps.join(' ')})`);
    // A fill on its own after the route was served: translate/incremental.ts's endpoints-only path.
    if (steps.join() === 'route,backends,settle,fill') assert.equal(incremental.stats.endpointsOnly, 1);
  } finally {
    await loop.stop();
    await dataPlane.close();
    await server.close();
  }
}

// Orders the informers can deliver in: the fill before, inside (held open) or after the rebuild
// that adds the route ('hold' holds the rebuild the steps before it started).
const orders: Step[][] = [
  ['route', 'backends', 'settle', 'fill'],
  ['route', 'backends', 'fill'],
  ['backends', 'route', 'fill'],
  ['backends', 'fill', 'route'],
  ['route', 'hold', 'backends', 'fill', 'release'],
  ['route', 'backends', 'hold', 'fill', 'release'],
  ['backends', 'route', 'hold', 'fill', 'release'],
  ['route', 'hold', 'backends', 'release', 'hold', 'fill', 'release'],
  ['route', 'backends', 'settle', 'fill', 'hold', 'release'],
];

for (const steps of orders) {
  test(`HTTPRouteServiceTypes' manual EndpointSlices reach the data plane: ${steps.join(', ')}`, () => play(steps));
}
