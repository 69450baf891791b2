// Hostname intersection between a listener and a route, and the "most specific first"
// order used for virtual hosts, listeners sharing a port and TLS SNI tables.

export const ANY_HOST = '*';

/** The Gateway API Hostname pattern (CRD validation): lower-case DNS name, optionally "*." first. */
const HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function validHostname(h: unknown): h is string {
  return typeof h === 'string' && h.length <= 253 && HOSTNAME.test(h);
}

export function isWildcard(h: string): boolean {
  return h.startsWith('*.');
}

/** True when `host` (exact or wildcard) lies within `pattern` (exact, wildcard or '*'). */
export function hostWithin(host: string, pattern: string): boolean {
  if (pattern === ANY_HOST || host === pattern) return true;
  if (!isWildcard(pattern)) return false;
  const suffix = pattern.slice(1); // ".example.com": a wildcard needs at least one more label
  if (isWildcard(host)) return host.slice(1).endsWith(suffix);
  return host.endsWith(suffix) && host.length > suffix.length;
}

/**
 * The hostnames a route serves on a listener (spec: HTTPRoute/GRPCRoute/TLSRoute
 * `hostnames`). Route hostnames outside the listener's are ignored; a route wildcard wider
 * than the listener's hostname narrows to the listener's. Empty result = no intersection.
 */
export function intersectHostnames(listenerHostname: string | undefined, routeHostnames: readonly string[] | undefined): string[] {
  const out: string[] = [];
  if (!routeHostnames || routeHostnames.length === 0) {
    out.push(listenerHostname ?? ANY_HOST);
  } else if (!listenerHostname) {
    out.push(...routeHostnames);
  } else {
    for (const r of routeHostnames) {
      if (hostWithin(r, listenerHostname)) out.push(r);
      else if (hostWithin(listenerHostname, r)) out.push(listenerHostname);
    }
  }
  return [...new Set(out)].sort(compareHostnameSpecificity);
}

/**
 * The route's own hostname behind an effective one (intersectHostnames' output): the most
 * specific route hostname that yields it on this listener. A route without hostnames takes
 * the listener's, so it ranks as the effective one itself. Precedence between routes whose
 * effective hostnames are the same goes by this one (GatewayRouteHostnameIntersectionPrecedence).
 */
export function routeHostnameBehind(listenerHostname: string | undefined, routeHostnames: readonly string[] | undefined, effective: string): string | undefined {
  if (!routeHostnames || routeHostnames.length === 0) return effective;
  let best: string | undefined;
  for (const r of routeHostnames ?? []) {
    const yields = !listenerHostname || hostWithin(r, listenerHostname) ? r : hostWithin(listenerHostname, r) ? listenerHostname : undefined;
    if (yields === effective && (best === undefined || compareHostnameSpecificity(r, best) < 0)) best = r;
  }
  return best;
}

/**
 * Route precedence by hostname (HTTPRoute `hostnames`): the most characters in a matching
 * non-wildcard hostname, then in a matching hostname; "*" (or none) last. Unlike
 * compareHostnameSpecificity, equal lengths tie (then age decides).
 */
export function compareRouteHostnames(a: string | undefined, b: string | undefined): number {
  return rank(a) - rank(b) || (b?.length ?? 0) - (a?.length ?? 0);
}

/** Do two sets of effective hostnames share any host? (GRPCRoute/HTTPRoute conflict rule.) */
export function hostnameSetsOverlap(a: readonly string[], b: readonly string[]): boolean {
  for (const x of a) for (const y of b) if (hostWithin(x, y) || hostWithin(y, x)) return true;
  return false;
}

function rank(h: string | undefined): number {
  if (h === undefined || h === ANY_HOST || h === '') return 2;
  return isWildcard(h) ? 1 : 0;
}

/**
 * Most specific first: exact names, then wildcards, then "any". Within a class, longer names
 * first (a longer wildcard is narrower); equal lengths fall back to alphabetical order so
 * the output never depends on input order.
 */
export function compareHostnameSpecificity(a: string | undefined, b: string | undefined): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  const la = a?.length ?? 0;
  const lb = b?.length ?? 0;
  if (la !== lb) return lb - la;
  const sa = a ?? '';
  const sb = b ?? '';
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** ".b.example.com", ".example.com", ".com" for "a.b.example.com" (or for the suffix ".b.example.com" itself, starting there). */
function labelSuffixes(hostOrSuffix: string): string[] {
  const out: string[] = [];
  let i = hostOrSuffix.startsWith('.') ? 0 : hostOrSuffix.indexOf('.');
  while (i >= 0) {
    out.push(hostOrSuffix.slice(i));
    i = hostOrSuffix.indexOf('.', i + 1);
  }
  return out;
}

/**
 * Effective hostnames claimed on one listener, answering "does this hostname overlap any
 * claim, and whose?" in time proportional to its number of labels, not to the number of
 * claims (the GRPCRoute/HTTPRoute rule is checked for every route on a listener; a scan
 * would make thousands of routes quadratic). Same answers as hostnameSetsOverlap.
 */
export class HostnameClaims {
  private any?: string;
  private first?: string;
  private readonly exact = new Map<string, string>();
  /** Wildcard claims by suffix: "*.example.com" -> ".example.com". */
  private readonly wild = new Map<string, string>();
  /** Every label suffix of every exact claim. */
  private readonly exactSuffixes = new Map<string, string>();
  /** Every label suffix of every wildcard claim's suffix (itself included). */
  private readonly wildSuffixes = new Map<string, string>();

  add(host: string, owner: string): void {
    this.first ??= owner;
    if (host === ANY_HOST) this.any ??= owner;
    else if (isWildcard(host)) {
      const s = host.slice(1);
      if (!this.wild.has(s)) this.wild.set(s, owner);
      for (const t of labelSuffixes(s)) if (!this.wildSuffixes.has(t)) this.wildSuffixes.set(t, owner);
    } else {
      if (!this.exact.has(host)) this.exact.set(host, owner);
      for (const t of labelSuffixes(host)) if (!this.exactSuffixes.has(t)) this.exactSuffixes.set(t, owner);
    }
  }

  /** The owner of a claim overlapping `host`, if any. */
  overlap(host: string): string | undefined {
    if (this.any !== undefined) return this.any;
    if (host === ANY_HOST) return this.first;
    if (!isWildcard(host)) {
      const hit = this.exact.get(host);
      if (hit !== undefined) return hit;
      for (const t of labelSuffixes(host)) {
        const w = this.wild.get(t);
        // "*.example.com" covers "a.example.com" but not "example.com" itself (t is a proper suffix here).
        if (w !== undefined) return w;
      }
      return undefined;
    }
    const s = host.slice(1);
    // An exact claim under the wildcard, a wildcard claim at or under it, or one above it.
    const under = this.exactSuffixes.get(s) ?? this.wildSuffixes.get(s);
    if (under !== undefined) return under;
    for (const t of labelSuffixes(s)) {
      const w = this.wild.get(t);
      if (w !== undefined) return w;
    }
    return undefined;
  }
}
