// The per-request decision shared by the HTTP/1.1 and HTTP/2 front ends: route the request,
// run the rule's filters then the chosen backendRef's, and say either "answer locally with
// this" or "proxy to this cluster with this head". No I/O here.

import type { HeaderModifier, HTTPFilter, HTTPRouteEntry, Listener } from '../ir/types.js';
import type { Mirror } from './filters/mirror.js';
import type { RuntimeConfig } from './config.js';
import { applyHeaderModifier } from './filters/header-modifier.js';
import { modifyPath } from './filters/path-modifier.js';
import { redirectLocation } from './filters/redirect.js';
import { preflightHeaders, type Cors } from './filters/cors.js';
import { headerValue } from './router/match.js';
import { normalizeHost } from './router/host.js';
import type { PortRouter } from './router/tables.js';
import { misdirected } from './tls/misdirected.js';
import { DEFAULT_PATH_OPTIONS, normalizePath, pathNeedsWork, PATH_REDIRECT, PATH_REJECT, type PathOptions } from './path.js';
import { pickBackend, type RuntimeCluster } from './upstream/cluster.js';
import { mintSession, readSession, sessionHeader, stickyBackend, type SessionToken } from './upstream/session.js';
import type { RouteCells } from '../observability/metrics/dataplane.js';

export interface Incoming {
  method: string;
  /** Request target: path plus optional "?query". */
  target: string;
  /** Host header / :authority as received. */
  authority: string;
  /** Flat [lowerName, value, ...], end-to-end headers only; filters edit it in place. */
  headers: string[];
  scheme: 'http' | 'https';
  listenerPort: number;
  /** SNI of the TLS connection (HTTPS ports), '' or absent otherwise: a Host selecting another listener gets 421. */
  sni?: string;
}

export class Plan {
  /** > 0: answer locally with this status. */
  status = 0;
  localHeaders: string[] | null = null;
  localBody = '';
  /** gRPC status for a trailers-only answer (12 UNIMPLEMENTED, 14 UNAVAILABLE), 0 = not gRPC. */
  grpcStatus = 0;
  entry: HTTPRouteEntry | undefined = undefined;
  /** The IR listener that owns the request's host (access log names), undefined when none. */
  listener: Listener | undefined = undefined;
  /** The chosen backendRef's cluster name ('' = none chosen), for local answers too. */
  backend = '';
  /** This request gets an access log line (the front end set it; local answers then record their reason). */
  logged = false;
  cluster: RuntimeCluster | null = null;
  method = '';
  /** Path plus query as sent upstream. */
  target = '';
  /** Host to send upstream. */
  authority = '';
  /** Path (no query) after URLRewrite. */
  path = '';
  headers: string[] = [];
  respMods: HeaderModifier[] | null = null;
  cors: Cors | null = null;
  origin = '';
  mirrors: Mirror[] | null = null;
  /** Smallest of the rule's request / backendRequest timeouts, 0 = none. */
  timeoutMs = 0;
  /** A retrying rule's backendRequest timeout: it bounds each try (upstream/retry.ts); 0 = none. */
  tryTimeoutMs = 0;
  /** Metrics cells of the listener x rule x backend this request counts under; null when metrics are off. */
  cells: RouteCells | null = null;
  /** The endpoint session persistence chose; -1 = round robin. */
  sessionEndpoint = -1;
  private picked = false;

  /** The endpoint of the first try (the session's, when it has one); retries go round robin. */
  pickEndpoint(): number {
    if (this.sessionEndpoint < 0 || this.picked) return this.cluster!.next();
    this.picked = true;
    return this.sessionEndpoint;
  }

  /** The same try again on a fresh socket (a pooled one was stale): the session's endpoint stays. */
  replayEndpoint(): number {
    return this.sessionEndpoint >= 0 ? this.sessionEndpoint : this.cluster!.next();
  }
}

function local(p: Plan, status: number, body: string, headers: string[] | null = null): Plan {
  p.status = status;
  p.localBody = body;
  p.localHeaders = headers;
  return p;
}

/** A path refused (400) or redirected to its normal form (307): gRPC gets INTERNAL, as from Envoy. */
function pathAnswer(p: Plan, inc: Incoming, status: number, body: string, headers: string[] | null): Plan {
  if (isGrpc(inc.headers)) p.grpcStatus = 13;
  return local(p, status, body, headers);
}

const isGrpc = (headers: string[]): boolean => {
  const ct = headerValue(headers, 'content-type');
  return ct !== undefined && ct.startsWith('application/grpc');
};

export function makePlan(cfg: RuntimeConfig, router: PortRouter, inc: Incoming, pathOpts: PathOptions = DEFAULT_PATH_OPTIONS): Plan {
  const p = new Plan();
  p.cells = router.noListener;
  const host = normalizeHost(inc.authority);
  let target = inc.target;
  const q = target.indexOf('?');
  let path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  // Routes match, filters rewrite and the backend receives the normalised path (path.ts).
  if (path.charCodeAt(0) !== 47) {
    // Origin-form only ("*" for OPTIONS); the HTTP/1.1 front end already turned absolute-form into it.
    if (path !== '*' || inc.method !== 'OPTIONS') return pathAnswer(p, inc, 400, 'bad request path\n', null);
  } else if (pathNeedsWork(path)) {
    const n = normalizePath(path, pathOpts);
    if (n.verdict === PATH_REJECT) return pathAnswer(p, inc, 400, n.reason + '\n', null);
    if (n.verdict === PATH_REDIRECT) return pathAnswer(p, inc, 307, '', ['location', q < 0 ? n.path : n.path + target.slice(q)]);
    if (n.path !== path) {
      path = n.path;
      target = q < 0 ? path : path + target.slice(q);
    }
  }
  const listener = router.listenerFor(host);
  if (inc.sni && misdirected(router, inc.sni, listener)) return local(p, 421, 'misdirected request\n');
  if (listener) {
    p.listener = listener.listener;
    if (listener.noRoute) p.cells = listener.noRoute;
  }
  const vh = listener?.vhosts.lookup(host);
  const slot = vh ? vh.matcher.find({ method: inc.method, path, query, headers: inc.headers }) : null;
  if (slot === null) {
    if (listener?.hasGrpc && isGrpc(inc.headers)) p.grpcStatus = 12;
    return local(p, 404, 'route not found\n');
  }
  const entry = slot.entry;
  p.entry = entry;
  const cells = vh!.cells;
  // Resolved before the filters run: a RequestMirror's cells are registered with the route's.
  const routeCells = cells ? cells.at(slot) : null;
  if (routeCells) p.cells = routeCells[0]!;
  p.method = inc.method;
  p.headers = inc.headers;
  p.authority = inc.authority;
  p.path = path;

  if (entry.filters.length && runFilters(p, entry.filters, inc, host, query)) return p;
  const sp = entry.session;
  let token: SessionToken | null = null;
  let b = sp && (token = readSession(sp, inc.headers, Math.floor(Date.now() / 1000))) ? stickyBackend(entry.backends, token) : undefined;
  b ??= pickBackend(entry.backends);
  if (routeCells && b) p.cells = routeCells[1 + entry.backends.indexOf(b)]!;
  if (b && b.cluster !== undefined) p.backend = b.cluster;
  if (!b || b.invalid || b.cluster === undefined) {
    if (entry.grpc) p.grpcStatus = 14;
    return local(p, 500, b?.invalid ? 'backend invalid\n' : 'no backend\n');
  }
  if (b.filters && b.filters.length && runFilters(p, b.filters, inc, host, query)) return p;
  const cluster = cfg.clusters.get(b.cluster);
  if (!cluster) {
    if (entry.grpc) p.grpcStatus = 14;
    return local(p, 500, 'backend cluster missing\n');
  }
  if (cluster.endpoints.length === 0) {
    if (entry.grpc) p.grpcStatus = 14;
    return local(p, 503, 'no healthy upstream\n');
  }
  p.cluster = cluster;
  if (sp) stick(p, sp, cluster, token !== null && token.cluster === cluster.name ? token : null, inc.scheme === 'https');
  if (p.path !== path) target = query ? p.path + '?' + query : p.path;
  p.target = target;
  const t = entry.timeouts;
  if (t) {
    const a = t.requestMs ?? 0;
    const c = t.backendRequestMs ?? 0;
    p.timeoutMs = a > 0 && c > 0 ? Math.min(a, c) : a || c;
    if (entry.retry && c > 0) p.tryTimeoutMs = c;
  }
  return p;
}

/**
 * Session persistence: the token's endpoint when the cluster still has it, else a new one by round
 * robin and a new token in the response; an idle-timed session's token is renewed as it is used.
 */
function stick(p: Plan, sp: NonNullable<HTTPRouteEntry['session']>, cluster: RuntimeCluster, token: SessionToken | null, https: boolean): void {
  const now = Math.floor(Date.now() / 1000);
  let i = token ? cluster.indexOf(token.address, token.port) : -1;
  let out: string | undefined;
  if (i >= 0) {
    if (sp.idleTimeoutMs > 0 && now > token!.lastUse) out = mintSession(sp, cluster, i, token!.issued, now);
  } else {
    i = cluster.next();
    out = mintSession(sp, cluster, i, now, now);
  }
  p.sessionEndpoint = i;
  if (out === undefined) return;
  const [name, value] = sessionHeader(sp, out, https);
  (p.respMods ??= []).push(name === 'set-cookie' ? { add: [{ name, value }] } : { set: [{ name, value }] });
}

/** Runs filters in order; returns true when one of them answered locally (redirect, CORS preflight). */
function runFilters(p: Plan, filters: HTTPFilter[], inc: Incoming, host: string, query: string): boolean {
  for (const f of filters) {
    switch (f.type) {
      case 'RequestHeaderModifier':
        applyHeaderModifier(p.headers, f.modifier);
        break;
      case 'ResponseHeaderModifier':
        (p.respMods ??= []).push(f.modifier);
        break;
      case 'RequestRedirect': {
        const loc = redirectLocation(f, { scheme: inc.scheme, host, listenerPort: inc.listenerPort, path: p.path, query, match: p.entry!.match });
        local(p, f.statusCode, '', ['location', loc]);
        return true;
      }
      case 'URLRewrite':
        if (f.hostname !== undefined) p.authority = f.hostname;
        if (f.path) p.path = modifyPath(p.path, f.path, p.entry!.match);
        break;
      case 'RequestMirror':
        if (f.fraction >= 1 || Math.random() < f.fraction) (p.mirrors ??= []).push(f);
        break;
      case 'CORS': {
        const origin = headerValue(inc.headers, 'origin');
        if (origin === undefined) break;
        const acrm = headerValue(inc.headers, 'access-control-request-method');
        if (inc.method === 'OPTIONS' && acrm !== undefined) {
          local(p, 200, '', preflightHeaders(f, origin, acrm, headerValue(inc.headers, 'access-control-request-headers')));
          return true;
        }
        p.cors = f;
        p.origin = origin;
        break;
      }
    }
  }
  return false;
}
