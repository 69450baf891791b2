// Chooses by SNI: the listener on a TLS port, then the TLSRoute entry inside it.
// Gateway API hostname semantics: "*.example.com" matches one or more leading labels
// ("a.example.com", "a.b.example.com") but not "example.com"; exact beats wildcard, and a
// longer wildcard beats a shorter one.

import type { Listener, TLSRouteEntry } from '../../ir/types.js';

/** A lookup table compiled once per update(), so a connection costs one map probe plus a short wildcard scan. */
export class HostTable<T> {
  private readonly exact = new Map<string, T>();
  private readonly wildcards: { suffix: string; value: T }[] = [];
  private any: T | undefined;

  /** First registration of a hostname wins, so callers add in priority order. */
  add(hostname: string | undefined, value: T): void {
    const h = hostname?.toLowerCase();
    if (h === undefined || h === '*') {
      this.any ??= value;
    } else if (h.startsWith('*.')) {
      const suffix = h.slice(1);
      if (!this.wildcards.some((w) => w.suffix === suffix)) this.wildcards.push({ suffix, value });
      // Longest suffix first: that is the most specific wildcard.
      this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    } else if (!this.exact.has(h)) {
      this.exact.set(h, value);
    }
  }

  lookup(host: string): T | undefined {
    const e = this.exact.get(host);
    if (e !== undefined) return e;
    for (const w of this.wildcards) {
      if (host.length > w.suffix.length && host.endsWith(w.suffix)) return w.value;
    }
    return this.any;
  }
}

/** A TLS listener's routes by SNI; each listener has its own table (listener isolation). */
export function tlsRouteTable(listener: Listener): HostTable<TLSRouteEntry> {
  const routes = new HostTable<TLSRouteEntry>();
  for (const entry of listener.tlsRoutes ?? []) {
    for (const h of entry.hostnames) routes.add(h, entry);
  }
  return routes;
}
