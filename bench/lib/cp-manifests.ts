// The manifest set of a control-plane run at N routes, one file per thing a change touches,
// so each measured change rewrites exactly one object:
//   base.yaml       Namespace, GatewayClass, backend-a (the nginx backend)
//   gateway.yaml    Gateway: HTTP listener, HTTPS listener (Secret bench-tls), and the
//                   listener a Gateway change moves between two ports
//   secret.yaml     the TLS Secret a Secret change rotates between two certificates
//   endpoints.yaml  N/10 Services with one EndpointSlice of 100 endpoints each (N*10 endpoints
//                   in all: 100,000 at 10,000 routes); never contacted, they only weigh on the IR
//   routes.yaml     N HTTPRoutes: the last to backend-a (the start probe), the others spread
//                   over the endpoint-heavy Services
//   eps-probe.yaml  backend-eps: a Service whose one endpoint an EndpointSlice change moves
//                   between backend-a's port (200) and a closed port (502/503)

import { DEFAULT_CONTROLLER_NAME } from '../../src/api/names.js';
import { backendService, httpRoute, NAMESPACE } from './manifests.js';
import { routePath } from './scenarios.js';

type Doc = Record<string, unknown>;
const GW = 'gateway.networking.k8s.io/v1';
export const ENDPOINTS_PER_SERVICE = 100;
export const EPS_PROBE_PATH = '/eps-probe';

export interface CpPorts {
  http: number;
  https: number;
  /** The two ports the Gateway change moves listener `moved` between. */
  moved: [number, number];
  backend: number;
  /** A loopback port nothing listens on (backend-eps when "down"). */
  closed: number;
}

export function cpBase(p: CpPorts): Doc[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    { apiVersion: GW, kind: 'GatewayClass', metadata: { name: 'portico' }, spec: { controllerName: DEFAULT_CONTROLLER_NAME } },
    ...backendService('backend-a', p.backend),
  ];
}

/** `movedTo`: which of the two ports listener `moved` is on (the Gateway change flips it). */
export function cpGateway(p: CpPorts, movedTo: 0 | 1): Doc[] {
  return [
    {
      apiVersion: GW,
      kind: 'Gateway',
      metadata: { name: 'bench', namespace: NAMESPACE },
      spec: {
        gatewayClassName: 'portico',
        addresses: [{ type: 'IPAddress', value: '127.0.0.1' }],
        listeners: [
          { name: 'http', port: p.http, protocol: 'HTTP' },
          { name: 'https', port: p.https, protocol: 'HTTPS', tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'bench-tls' }] } },
          { name: 'moved', port: p.moved[movedTo], protocol: 'HTTP' },
        ],
      },
    },
  ];
}

export function cpSecret(certPem: string, keyPem: string): Doc[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-tls', namespace: NAMESPACE },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(certPem).toString('base64'), 'tls.key': Buffer.from(keyPem).toString('base64') },
    },
  ];
}

export function serviceCount(routes: number): number {
  return Math.max(1, Math.floor(routes / 10));
}

/** Services eps-00000.. with ENDPOINTS_PER_SERVICE ready endpoints each, in 10.0.0.0/8 (never dialled). */
export function cpEndpoints(routes: number): Doc[] {
  const docs: Doc[] = [];
  for (let s = 0; s < serviceCount(routes); s++) {
    const name = `eps-${String(s).padStart(5, '0')}`;
    const endpoints = [];
    for (let e = 0; e < ENDPOINTS_PER_SERVICE; e++) {
      const n = s * ENDPOINTS_PER_SERVICE + e;
      endpoints.push({ addresses: [`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`], conditions: { ready: true } });
    }
    docs.push(
      { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NAMESPACE }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-1`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        endpoints,
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    );
  }
  return docs;
}

/**
 * The hostname of a route in the "hostname per route" runs (--cp-hosts): its path's first
 * segment under bench.local. Probes send it as Host; a path no route claims a hostname for
 * (the EndpointSlice probe) is served by the catch-all virtual host all the same.
 */
export function hostFor(path: string): string {
  const end = path.indexOf('/', 1);
  return `${path.slice(1, end < 0 ? undefined : end)}.bench.local`;
}

/** N HTTPRoutes /svc-00000.. : the last one to backend-a, the rest round-robin over the eps Services; `ownHosts`: each on a hostname of its own. */
export function cpRoutes(routes: number, backendPort: number, ownHosts = false): Doc[] {
  const docs: Doc[] = [];
  const services = serviceCount(routes);
  for (let i = 0; i < routes; i++) {
    const last = i === routes - 1;
    const backendRefs = [last ? { name: 'backend-a', port: backendPort } : { name: `eps-${String(i % services).padStart(5, '0')}`, port: 80 }];
    docs.push(httpRoute(`route-${String(i).padStart(5, '0')}`, { ...(ownHosts ? { hostnames: [hostFor(routePath(i))] } : {}), rules: [{ matches: [{ path: { type: 'PathPrefix', value: routePath(i) } }], backendRefs }] }));
  }
  return docs;
}

/** backend-eps and its route; `up` puts its endpoint on the backend, else on a closed port. */
export function cpEpsProbe(p: CpPorts, up: boolean): Doc[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'backend-eps', namespace: NAMESPACE }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'backend-eps-1', namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': 'backend-eps' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port: up ? p.backend : p.closed, protocol: 'TCP' }],
    },
    httpRoute('eps-probe', { rules: [{ matches: [{ path: { type: 'PathPrefix', value: EPS_PROBE_PATH } }], backendRefs: [{ name: 'backend-eps', port: 80 }] }] }),
  ];
}

/** One route the route-change step adds (file added-K.yaml). */
export function cpAddedRoute(name: string, path: string, backendPort: number, ownHosts = false): Doc {
  return httpRoute(name, { ...(ownHosts ? { hostnames: [hostFor(path)] } : {}), rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: 'backend-a', port: backendPort }] }] });
}

/** `count` routes /churn-K-00000.. to backend-a: what one churn cycle adds and then deletes. */
export function cpChurnRoutes(cycle: number, count: number, backendPort: number): Doc[] {
  const docs: Doc[] = [];
  for (let i = 0; i < count; i++) docs.push(cpAddedRoute(`churn-${String(i).padStart(5, '0')}`, `/churn-${cycle}-${i}`, backendPort));
  return docs;
}
