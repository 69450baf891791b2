// A Port's routing tables, compiled once per apply: listener by hostname, then virtual host
// by hostname, then the compiled route matcher. Immutable once built, so a request that
// captured a table keeps a consistent view while apply() swaps in the next one.

import type { HTTPRouteEntry, Listener, Port } from '../../ir/types.js';
import { CompiledMatcher } from './compiled.js';
import { HostTable } from './host.js';
import type { MatchRequest } from './match.js';

export interface CompiledVHost {
  hostname: string;
  routes: HTTPRouteEntry[];
  matcher: CompiledMatcher;
}

export interface CompiledListener {
  listener: Listener;
  vhosts: HostTable<CompiledVHost>;
  /** True when any route is a GRPCRoute entry: no-match answers then depend on the request's content-type. */
  hasGrpc: boolean;
}

export interface RouteResult {
  listener: CompiledListener;
  entry: HTTPRouteEntry;
}

export class PortRouter {
  readonly listeners = new HostTable<CompiledListener>();

  constructor(readonly port: Port) {
    for (const l of port.listeners) {
      const vhosts = new HostTable<CompiledVHost>();
      let hasGrpc = false;
      for (const vh of l.virtualHosts ?? []) {
        vhosts.add(vh.hostname, { hostname: vh.hostname, routes: vh.routes, matcher: new CompiledMatcher(vh.routes) });
        if (vh.routes.some((r) => r.grpc)) hasGrpc = true;
      }
      this.listeners.add(l.hostname, { listener: l, vhosts, hasGrpc });
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
