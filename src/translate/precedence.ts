// Route precedence within one virtual host, exactly as the spec orders it.
//
// HTTPRoute (HTTPRouteRule.matches): Exact path, then the longest prefix (in characters),
// then a method match, then the most header matches, then the most query param matches.
// RegularExpression paths are implementation-specific: Portico ranks them after Exact and
// before PathPrefix, longer expressions first (as Envoy Gateway does).
// GRPCRoute: most characters in the matching service, then in the method, then the most
// header matches (hostname characters are handled by the virtual host order).
// Ties across routes: oldest creationTimestamp, then "{namespace}/{name}"; within a route,
// the first rule, then the first match in the rule.
// Before all of these, between routes sharing a virtual host: the route's own hostname that
// yields it, most specific first (GatewayRouteHostnameIntersectionPrecedence: a route for
// abc.example.com wins over one for *.example.com on a listener for abc.example.com).

import type { HTTPRouteEntry } from '../ir/types.js';
import { compareRouteHostnames } from './hostnames.js';

export interface RankedEntry {
  entry: HTTPRouteEntry;
  /** Position of the route in age order (compareAge), computed once per translate. */
  routeOrder: number;
  /** GRPCRoute only: service and method character counts. */
  grpc?: { service: number; method: number };
  /** The route's own hostname behind the virtual host's (hostnames.ts routeHostnameBehind). */
  routeHostname?: string;
}

const PATH_RANK: Record<string, number> = { Exact: 0, RegularExpression: 1, PathPrefix: 2 };

export function compareHTTP(a: RankedEntry, b: RankedEntry): number {
  const byHost = compareRouteHostnames(a.routeHostname, b.routeHostname);
  if (byHost !== 0) return byHost;
  const ma = a.entry.match;
  const mb = b.entry.match;
  if (a.grpc && b.grpc) {
    if (a.grpc.service !== b.grpc.service) return b.grpc.service - a.grpc.service;
    if (a.grpc.method !== b.grpc.method) return b.grpc.method - a.grpc.method;
  } else if (!a.grpc && !b.grpc) {
    const ra = ma.path ? PATH_RANK[ma.path.type]! : 3;
    const rb = mb.path ? PATH_RANK[mb.path.type]! : 3;
    if (ra !== rb) return ra - rb;
    const la = ma.path?.value.length ?? 0;
    const lb = mb.path?.value.length ?? 0;
    if (la !== lb) return lb - la;
    const hasMa = ma.method ? 1 : 0;
    const hasMb = mb.method ? 1 : 0;
    if (hasMa !== hasMb) return hasMb - hasMa;
  } else {
    // The translator never mixes kinds in one virtual host (GRPCRoute spec); keep HTTP first if it ever happens.
    return a.grpc ? 1 : -1;
  }
  const ha = ma.headers?.length ?? 0;
  const hb = mb.headers?.length ?? 0;
  if (ha !== hb) return hb - ha;
  if (!a.grpc) {
    const qa = ma.queryParams?.length ?? 0;
    const qb = mb.queryParams?.length ?? 0;
    if (qa !== qb) return qb - qa;
  }
  if (a.routeOrder !== b.routeOrder) return a.routeOrder - b.routeOrder;
  if (a.entry.source.rule !== b.entry.source.rule) return a.entry.source.rule - b.entry.source.rule;
  return (a.entry.source.match ?? 0) - (b.entry.source.match ?? 0);
}

/** The first `kept` of `a` and all of `b`, both sorted by `compare`, as one sorted list: `a`'s first among equals. */
export function mergeSorted<T>(a: readonly T[], kept: number, b: readonly T[], compare: (x: T, y: T) => number): T[] {
  const out: T[] = new Array(kept + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < kept && j < b.length) out[k++] = compare(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < kept) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Up to this many are put in a sorted list one by one (binary search and insert); more are sorted and merged in once. */
export const FEW = 16;

/**
 * First index among the first `n` of `list` (sorted by `compare`) whose element sorts after `x`:
 * inserted there, equal ones keep the order they were added in.
 */
export function upperBound<T>(list: readonly T[], x: T, compare: (a: T, b: T) => number, n = list.length): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(list[mid]!, x) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
