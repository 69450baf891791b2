// Gateway API manifests equivalent to the nginx/HAProxy configs, for `portico run`.
// Generated per scenario into bench/.run/portico/<scenario>/ and for the control-plane runs.

import { stringify } from 'yaml';
import { DEFAULT_CONTROLLER_NAME } from '../../src/api/names.js';
import { ROUTES_HOST, routePath, type Scenario } from './scenarios.js';

export const NAMESPACE = 'bench';
const GW = 'gateway.networking.k8s.io/v1';

type Doc = Record<string, unknown>;

export function toYaml(docs: Doc[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

/** A Service and its EndpointSlice: one ready endpoint on 127.0.0.1:port. */
export function backendService(name: string, port: number): Doc[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: NAMESPACE },
      spec: { type: 'ClusterIP', ports: [{ name: 'http', port, targetPort: port, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ name: 'http', port, protocol: 'TCP' }],
    },
  ];
}

export interface GatewayOptions {
  port: number;
  tls?: { certPem: string; keyPem: string };
}

/** GatewayClass, Namespace, Gateway bound to 127.0.0.1 (never beyond loopback), TLS Secret if any. */
export function gatewayDocs(o: GatewayOptions): Doc[] {
  const listener: Doc = { name: o.tls ? 'https' : 'http', port: o.port, protocol: o.tls ? 'HTTPS' : 'HTTP' };
  if (o.tls) listener.tls = { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'bench-tls' }] };
  const docs: Doc[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    {
      apiVersion: GW,
      kind: 'GatewayClass',
      metadata: { name: 'portico' },
      spec: { controllerName: DEFAULT_CONTROLLER_NAME },
    },
    {
      apiVersion: GW,
      kind: 'Gateway',
      metadata: { name: 'bench', namespace: NAMESPACE },
      spec: {
        gatewayClassName: 'portico',
        addresses: [{ type: 'IPAddress', value: '127.0.0.1' }],
        listeners: [listener],
      },
    },
  ];
  if (o.tls) {
    docs.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-tls', namespace: NAMESPACE },
      type: 'kubernetes.io/tls',
      data: {
        'tls.crt': Buffer.from(o.tls.certPem).toString('base64'),
        'tls.key': Buffer.from(o.tls.keyPem).toString('base64'),
      },
    });
  }
  return docs;
}

export function httpRoute(name: string, spec: Doc): Doc {
  return {
    apiVersion: GW,
    kind: 'HTTPRoute',
    metadata: { name, namespace: NAMESPACE },
    spec: { parentRefs: [{ name: 'bench' }], ...spec },
  };
}

/** `count` HTTPRoutes, one PathPrefix rule each (/svc-00000, /svc-00001, ...), all to backend-a. */
export function prefixRoutes(count: number, backendPort: number, hostnames?: string[], first = 0): Doc[] {
  const docs: Doc[] = [];
  for (let i = first; i < first + count; i++) {
    docs.push(
      httpRoute(`route-${String(i).padStart(5, '0')}`, {
        ...(hostnames ? { hostnames } : {}),
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: routePath(i) } }],
            backendRefs: [{ name: 'backend-a', port: backendPort }],
          },
        ],
      }),
    );
  }
  return docs;
}

export interface ScenarioManifestInput {
  listenPort: number;
  backendA: number;
  backendB: number;
  certPem: string;
  keyPem: string;
}

/** The whole manifest set Portico serves for one data-plane scenario. */
export function scenarioManifests(s: Scenario, o: ScenarioManifestInput): string {
  const docs: Doc[] = [
    ...gatewayDocs({ port: o.listenPort, tls: s.tls ? { certPem: o.certPem, keyPem: o.keyPem } : undefined }),
    ...backendService('backend-a', o.backendA),
  ];
  if (s.routes) {
    docs.push(...prefixRoutes(s.routes, o.backendA, [ROUTES_HOST]));
  } else if (s.split) {
    docs.push(...backendService('backend-b', o.backendB));
    docs.push(
      httpRoute('split', {
        rules: [
          {
            filters: [
              {
                type: 'RequestHeaderModifier',
                requestHeaderModifier: {
                  set: [{ name: 'X-Bench-Set', value: '1' }],
                  add: [{ name: 'X-Bench-Add', value: '2' }],
                  remove: ['X-Bench-Remove'],
                },
              },
            ],
            backendRefs: [
              { name: 'backend-a', port: o.backendA, weight: 80 },
              { name: 'backend-b', port: o.backendB, weight: 20 },
            ],
          },
        ],
      }),
    );
  } else {
    docs.push(httpRoute('app', { rules: [{ backendRefs: [{ name: 'backend-a', port: o.backendA }] }] }));
  }
  return toYaml(docs);
}
