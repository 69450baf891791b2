// The data-plane scenarios. Each is one workload, served by every proxy with an
// equivalent configuration; the proxy-specific configs read these fields.

export type ScenarioName =
  | 'small-get'
  | 'stream-1m'
  | 'post-64k'
  | 'new-conn'
  | 'https'
  | 'h2'
  | 'routes-5k'
  | 'filters-split';

export interface Scenario {
  name: ScenarioName;
  title: string;
  /** wrk for HTTP/1.1, h2load for HTTP/2. */
  tool: 'wrk' | 'h2load';
  /** The proxy's listener terminates TLS (backend stays plain HTTP/1.1). */
  tls: boolean;
  /** The proxy's listener speaks HTTP/2 with prior knowledge (h2c). */
  h2: boolean;
  method: 'GET' | 'POST';
  path: string;
  /** Host header sent; proxies route on it where `routes` is set. */
  host?: string;
  bodyBytes?: number;
  /** Send `Connection: close`: a new TCP connection per request. */
  connectionClose?: boolean;
  /** Number of routes on the host; the request hits the last one. */
  routes?: number;
  /** Request header modifier (set/add/remove) and an 80/20 weighted split over two backends. */
  split?: boolean;
  /** Extra request headers the client sends. */
  headers?: Record<string, string>;
}

export const ROUTES_HOST = 'routes.bench.local';
export const ROUTES_COUNT = 5000;

/** Fixed-width so every route path has the same length: precedence is then decided by order alone. */
export function routePath(i: number): string {
  return `/svc-${String(i).padStart(5, '0')}`;
}

export const SCENARIOS: Scenario[] = [
  { name: 'small-get', title: 'small GET, keep-alive', tool: 'wrk', tls: false, h2: false, method: 'GET', path: '/small' },
  { name: 'stream-1m', title: '1 MiB response streaming', tool: 'wrk', tls: false, h2: false, method: 'GET', path: '/1m' },
  {
    name: 'post-64k',
    title: '64 KiB POST body',
    tool: 'wrk',
    tls: false,
    h2: false,
    method: 'POST',
    path: '/upload',
    bodyBytes: 64 * 1024,
  },
  {
    name: 'new-conn',
    title: 'new connection per request',
    tool: 'wrk',
    tls: false,
    h2: false,
    method: 'GET',
    path: '/small',
    connectionClose: true,
  },
  { name: 'https', title: 'HTTPS termination, keep-alive', tool: 'wrk', tls: true, h2: false, method: 'GET', path: '/small' },
  { name: 'h2', title: 'HTTP/2 (h2c), h2load', tool: 'h2load', tls: false, h2: true, method: 'GET', path: '/small' },
  {
    name: 'routes-5k',
    title: `host with ${ROUTES_COUNT} routes, late route hit`,
    tool: 'wrk',
    tls: false,
    h2: false,
    method: 'GET',
    path: `${routePath(ROUTES_COUNT - 1)}/item`,
    host: ROUTES_HOST,
    routes: ROUTES_COUNT,
  },
  {
    name: 'filters-split',
    title: 'header modifier + 80/20 weighted split',
    tool: 'wrk',
    tls: false,
    h2: false,
    method: 'GET',
    path: '/split',
    split: true,
    headers: { 'X-Bench-Remove': 'yes' },
  },
];

export type ProxyName = 'direct' | 'nginx' | 'haproxy' | 'portico' | 'portico-nometrics';
/** Measured by default. */
export const PROXIES: ProxyName[] = ['direct', 'nginx', 'haproxy', 'portico'];
/** Also accepted by --proxies: portico-nometrics is `portico run --metrics off`, for the metrics cost. */
export const ALL_PROXIES: ProxyName[] = [...PROXIES, 'portico-nometrics'];

/** Loopback ports, all offsets from one base so a clash is fixed with one flag. */
export interface Ports {
  backendA: number; // HTTP/1.1 backend (also the "direct" target)
  backendB: number; // second backend for the weighted split
  backendTls: number; // backend's own TLS listener, for "direct" in the https scenario
  backendH2c: number; // backend's own h2c listener, for "direct" in the h2 scenario
  nginx: number;
  haproxy: number;
  portico: number;
  'portico-nometrics': number;
  controlPlane: number; // Portico listener for the control-plane measurements
}

export function portsFrom(base: number): Ports {
  return {
    backendA: base,
    backendB: base + 1,
    backendTls: base + 2,
    backendH2c: base + 3,
    nginx: base + 10,
    haproxy: base + 11,
    portico: base + 12,
    'portico-nometrics': base + 13,
    controlPlane: base + 20,
  };
}

/** The port a client hits for `proxy` in `scenario`. */
export function targetPort(ports: Ports, proxy: ProxyName, s: Scenario): number {
  if (proxy === 'direct') return s.tls ? ports.backendTls : s.h2 ? ports.backendH2c : ports.backendA;
  return ports[proxy];
}

/** Body the backend answers on small paths: fixed, 64 bytes including the newline. */
export const SMALL_BODY = 'portico-bench small response body, fixed length of 64 bytes....\n';
