// A Port's routing tables, compiled once per apply: listener by hostname, then virtual host
// by hostname, then the compiled route matcher. Immutable once built, so a request that
// captured a table keeps a consistent view while apply() swaps in the next one.

import type { HTTPRouteEntry, Listener, Port } from '../../ir/types.js';
import { CompiledMatcher } from './compiled.js';
import { HostTable } from './host.js';
import type { MatchRequest } from './match.js';
import type { DataplaneMetrics, RouteCells } from '../../observability/metrics/dataplane.js';

export interface CompiledVHost {
  hostname: string;
  routes: HTTPRouteEntry[];
  matcher: CompiledMatcher;
  /** Metrics (null when off): per route, the rule's cells (backend "") then one per backendRef, in order. */
  cells: VHostCells | null;
}

/**
 * A virtual host's metrics cells, resolved per route on its first request: building every
 * route's label strings at apply time cost ~200 ms and ~20 MB per process at 10,000 routes,
 * for series that only exist once a request counts in them anyway.
 */
export class VHostCells {
  private readonly byRoute: (RouteCells[] | undefined)[];
  constructor(
    private readonly metrics: DataplaneMetrics,
    private readonly listener: Listener,
    private readonly routes: readonly HTTPRouteEntry[],
  ) {
    this.byRoute = new Array(routes.length);
  }

  /** Cells of route `i`: [0] the rule's, then one per backendRef in order. */
  at(i: number): RouteCells[] {
    return (this.byRoute[i] ??= entryCells(this.metrics, this.listener, this.routes[i]!));
  }
}

export interface CompiledListener {
  listener: Listener;
  vhosts: HostTable<CompiledVHost>;
  /** True when any route is a GRPCRoute entry: no-match answers then depend on the request's content-type. */
  hasGrpc: boolean;
  /** Metrics: requests on this listener that no route matched (null when off). */
  noRoute: RouteCells | null;
}

export interface RouteResult {
  listener: CompiledListener;
  entry: HTTPRouteEntry;
}

/** A virtual host compiled before can be kept when it is made of the very same entries (ir-delta.ts keeps their objects). */
function sameRoutes(a: readonly HTTPRouteEntry[], b: readonly HTTPRouteEntry[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Metrics cells per entry and listener, resolved once while the entry object lives: a router
// rebuilt for one changed route of 10,000 would otherwise build every route's label strings again.
const cellsByEntry = new WeakMap<HTTPRouteEntry, { metrics: DataplaneMetrics; byListener: Map<string, RouteCells[]> }>();

function entryCells(metrics: DataplaneMetrics, l: Listener, r: HTTPRouteEntry): RouteCells[] {
  let c = cellsByEntry.get(r);
  if (!c || c.metrics !== metrics) cellsByEntry.set(r, (c = { metrics, byListener: new Map() }));
  let cells = c.byListener.get(l.name);
  if (!cells) {
    cells = [metrics.route(l, r.source, undefined), ...r.backends.map((b) => metrics.route(l, r.source, b.cluster))];
    metrics.mirrorCells(l, r);
    c.byListener.set(l.name, cells);
  }
  return cells;
}

/** Matchers compiled during one apply, by their first entry (see PortRouter). */
export type MatcherCache = Map<HTTPRouteEntry | undefined, { routes: HTTPRouteEntry[]; matcher: CompiledMatcher }[]>;

export class PortRouter {
  readonly listeners = new HostTable<CompiledListener>();

  /** Metrics: requests answered before any listener was chosen (bad path, unknown host); null when off. */
  readonly noListener: RouteCells | null;

  /** `previous`: the router this one replaces (same metrics); virtual hosts made of the same entries are kept from it. */
  /**
   * `previous`: the router this one replaces (same metrics); virtual hosts made of the same
   * entries are kept from it. `matchers`: matchers compiled during this apply, shared by every
   * virtual host with the very same entries (a route attached to an HTTP and an HTTPS listener).
   */
  constructor(readonly port: Port, metrics: DataplaneMetrics | null = null, previous?: PortRouter, matchers: MatcherCache = new Map()) {
    this.noListener = metrics ? metrics.route(undefined, undefined, undefined) : null;
    for (const l of port.listeners) {
      if (l.protocol === 'TLS') continue; // an HTTPS port's TLS listeners (mixed mode) take no HTTP requests
      const vhosts = new HostTable<CompiledVHost>();
      const before = previous?.listeners.exact(l.hostname);
      let hasGrpc = false;
      for (const vh of l.virtualHosts ?? []) {
        const kept = before && before.listener.name === l.name ? before.vhosts.exact(vh.hostname) : undefined;
        if (kept && sameRoutes(kept.routes, vh.routes)) {
          vhosts.add(vh.hostname, kept);
          if (kept.routes.some((r) => r.grpc)) hasGrpc = true;
          continue;
        }
        // Resolved once per route (the first request): after that a request bumps fields, never builds a label.
        const cells = metrics ? new VHostCells(metrics, l, vh.routes) : null;
        let same = matchers.get(vh.routes[0]);
        if (!same) matchers.set(vh.routes[0], (same = []));
        let matcher = same.find((m) => sameRoutes(m.routes, vh.routes))?.matcher;
        if (!matcher) {
          matcher = new CompiledMatcher(vh.routes);
          same.push({ routes: vh.routes, matcher });
        }
        vhosts.add(vh.hostname, { hostname: vh.hostname, routes: vh.routes, matcher, cells });
        if (vh.routes.some((r) => r.grpc)) hasGrpc = true;
      }
      this.listeners.add(l.hostname, { listener: l, vhosts, hasGrpc, noRoute: metrics ? metrics.route(l, undefined, undefined) : null });
    }
  }

  /** The listener that owns `host` (listener isolation), undefined when none matches. */
  listenerFor(host: string): CompiledListener | undefined {
    return this.listeners.lookup(host);
  }

  /** Entry for a request on this port; undefined = 404 (or gRPC UNIMPLEMENTED). */
  route(host: string, req: MatchRequest): HTTPRouteEntry | undefined {
    const l = this.listeners.lookup(host);
    if (!l) return undefined;
    const vh = l.vhosts.lookup(host);
    if (!vh) return undefined;
    const i = vh.matcher.match(req);
    return i < 0 ? undefined : vh.routes[i];
  }
}
