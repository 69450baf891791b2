// A Port's routing tables: listener by hostname, then virtual host by hostname, then the
// compiled route matcher. Immutable once built, so a request that captured a table keeps a
// consistent view while apply() swaps in the next one; a virtual host whose routes changed gets a
// matcher derived from its predecessor (router/compiled.ts), which leaves the predecessor intact.

import type { HTTPRouteEntry, Listener, Port, VirtualHost } from '../../ir/types.js';
import { CompiledMatcher, type RouteSlot } from './compiled.js';
import { HostTable } from './host.js';
import { diffLists, editSize, hunks, sameItems } from './list-diff.js';
import type { MatchRequest } from './match.js';
import type { DataplaneMetrics, RouteCells } from '../../observability/metrics/dataplane.js';

export interface CompiledVHost {
  hostname: string;
  routes: readonly HTTPRouteEntry[];
  matcher: CompiledMatcher;
  /** Metrics (null when off): per route, the rule's cells (backend "") then one per backendRef, in order. */
  cells: VHostCells | null;
}

// Listener names as small numbers: a route slot keeps its metrics cells per listener in an array.
const listenerNumbers = new Map<string, number>();

/**
 * A virtual host's metrics cells, resolved per route on its first request: building every
 * route's label strings at apply time cost ~200 ms and ~20 MB per process at 10,000 routes,
 * for series that only exist once a request counts in them anyway. They are kept on the route's
 * slot (router/compiled.ts), which lives as long as the entry stays in the list.
 */
export class VHostCells {
  private readonly no: number;
  constructor(
    private readonly metrics: DataplaneMetrics,
    private readonly listener: Listener,
  ) {
    let no = listenerNumbers.get(listener.name);
    if (no === undefined) listenerNumbers.set(listener.name, (no = listenerNumbers.size));
    this.no = no;
  }

  /** Cells of the route in `s`: [0] the rule's, then one per backendRef in order. */
  at(s: RouteSlot): RouteCells[] {
    return ((s.cells ??= [])[this.no] ??= entryCells(this.metrics, this.listener, s.entry));
  }
}

export interface CompiledListener {
  listener: Listener;
  vhosts: HostTable<CompiledVHost>;
  /** True when any route is a GRPCRoute entry: no-match answers then depend on the request's content-type. */
  hasGrpc: boolean;
  /** Virtual hosts with a GRPCRoute entry (what `hasGrpc` is derived from, kept across edits). */
  grpcVHosts: number;
  /** Metrics: requests on this listener that no route matched (null when off). */
  noRoute: RouteCells | null;
}

export interface RouteResult {
  listener: CompiledListener;
  entry: HTTPRouteEntry;
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

/**
 * Compiled matchers an engine holds, across applies (one per engine: metrics cells hang off their
 * slots). A virtual host whose route list is an array seen before (ir-delta.ts hands every
 * listener sharing a list the same array, across ports too) takes that array's matcher; one whose
 * list equals another's compiled in this apply (by entry identity) shares it; otherwise its
 * matcher is derived from the one it replaces (router/compiled.ts), or compiled.
 */
export class Matchers {
  private byArray = new WeakMap<readonly HTTPRouteEntry[], CompiledMatcher>();
  private thisApply = new Map<HTTPRouteEntry | undefined, CompiledMatcher[]>();

  /** A new apply: lists equal by content are looked up among this apply's matchers only. */
  nextApply(): void {
    this.thisApply = new Map();
  }

  get(routes: readonly HTTPRouteEntry[], base: CompiledMatcher | undefined): CompiledMatcher {
    let m = this.byArray.get(routes);
    if (m) return m;
    let same = this.thisApply.get(routes[0]);
    if (!same) this.thisApply.set(routes[0], (same = []));
    // The last 32 only: a route every virtual host starts with (a catch-all) would make this quadratic.
    for (let k = same.length - 1; k >= 0 && k >= same.length - 32 && !m; k--) if (sameItems(same[k]!.routes, routes)) m = same[k];
    if (!m) {
      m = new CompiledMatcher(routes, base);
      same.push(m);
    }
    this.byArray.set(routes, m);
    return m;
  }
}

function compileVHost(vh: VirtualHost, kept: CompiledVHost | undefined, l: Listener, metrics: DataplaneMetrics | null, matchers: Matchers): CompiledVHost {
  // Kept when made of the very same entries (ir-delta.ts keeps their objects).
  if (kept && sameItems(kept.routes, vh.routes)) return kept;
  const matcher = matchers.get(vh.routes, kept?.matcher);
  // Resolved once per route (the first request): after that a request bumps fields, never builds a label.
  const cells = metrics ? new VHostCells(metrics, l) : null;
  return { hostname: vh.hostname, routes: vh.routes, matcher, cells };
}

/** A listener's virtual hosts compiled one by one, each kept from `before` when made of the same entries. */
function compileVHosts(l: Listener, before: CompiledListener | undefined, metrics: DataplaneMetrics | null, matchers: Matchers): { vhosts: HostTable<CompiledVHost>; grpcVHosts: number } {
  const vhosts = new HostTable<CompiledVHost>();
  let grpcVHosts = 0;
  for (const vh of l.virtualHosts ?? []) {
    const c = compileVHost(vh, before?.vhosts.exact(vh.hostname), l, metrics, matchers);
    vhosts.add(vh.hostname, c);
    if (c.matcher.grpc > 0) grpcVHosts++;
  }
  return { vhosts, grpcVHosts };
}

/**
 * `before`'s table edited where `l`'s virtual hosts differ from its listener's (by identity: the
 * translator and ir-delta.ts keep unchanged ones): with a hostname per route, one route changed
 * costs one virtual host, not 10,000. Undefined when the two differ in more than a few places.
 */
function editedVHosts(before: CompiledListener, l: Listener, metrics: DataplaneMetrics | null, matchers: Matchers): { vhosts: HostTable<CompiledVHost>; grpcVHosts: number } | undefined {
  const old = before.listener.virtualHosts;
  const next = l.virtualHosts;
  if (!old || !next || next.length < 16) return undefined;
  const d = diffLists(old, next);
  if (!d) return undefined;
  const hs = hunks(d);
  if (editSize(hs) > 32) return undefined;
  const vhosts = before.vhosts.clone();
  let grpcVHosts = before.grpcVHosts;
  const gone = new Map<string, CompiledVHost>();
  for (const h of hs)
    for (let o = h.at; o < h.at + h.remove; o++) {
      const c = before.vhosts.exact(old[o]!.hostname);
      if (!c) return undefined;
      gone.set(c.hostname, c);
      vhosts.remove(c.hostname);
      if (c.matcher.grpc > 0) grpcVHosts--;
    }
  for (const h of hs)
    for (let n = h.from; n < h.to; n++) {
      const vh = next[n]!;
      // A hostname the listener still had (the same object elsewhere in the list) is not taken twice.
      if (vhosts.exact(vh.hostname)) return undefined;
      const c = compileVHost(vh, gone.get(vh.hostname), l, metrics, matchers);
      vhosts.add(vh.hostname, c);
      if (c.matcher.grpc > 0) grpcVHosts++;
    }
  return { vhosts, grpcVHosts };
}

export class PortRouter {
  readonly listeners = new HostTable<CompiledListener>();

  /** Metrics: requests answered before any listener was chosen (bad path, unknown host); null when off. */
  readonly noListener: RouteCells | null;

  /**
   * `previous`: the router this one replaces (same metrics); virtual hosts made of the same
   * entries are kept from it, and a changed one's matcher is derived from its predecessor's.
   * `matchers`: the engine's (see Matchers).
   */
  constructor(
    readonly port: Port,
    metrics: DataplaneMetrics | null = null,
    previous?: PortRouter,
    matchers: Matchers = new Matchers(),
    /** The listener of this name in the config being replaced, on whatever port (a listener moved by a Gateway change). */
    elsewhere?: (listener: string) => CompiledListener | undefined,
  ) {
    this.noListener = metrics ? metrics.route(undefined, undefined, undefined) : null;
    for (const l of port.listeners) {
      if (l.protocol === 'TLS') continue; // an HTTPS port's TLS listeners (mixed mode) take no HTTP requests
      let before = previous?.listeners.exact(l.hostname);
      if (before?.listener.name !== l.name) before = elsewhere?.(l.name);
      const compiled = (before && editedVHosts(before, l, metrics, matchers)) ?? compileVHosts(l, before, metrics, matchers);
      this.listeners.add(l.hostname, { listener: l, ...compiled, hasGrpc: compiled.grpcVHosts > 0, noRoute: metrics ? metrics.route(l, undefined, undefined) : null });
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
    return vh.matcher.find(req)?.entry;
  }
}
