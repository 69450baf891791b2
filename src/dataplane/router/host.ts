// Hostname handling shared by listener selection, virtual-host selection and SNI certificate choice.

/** Host header / :authority -> bare lower-case hostname (port and trailing dot removed). */
export function normalizeHost(raw: string | undefined): string {
  if (!raw) return '';
  let h = raw;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    return (end < 0 ? h : h.slice(0, end + 1)).toLowerCase();
  }
  const colon = h.indexOf(':');
  if (colon >= 0) h = h.slice(0, colon);
  if (h.charCodeAt(h.length - 1) === 46 /* . */) h = h.slice(0, -1);
  // Lower-casing allocates; skip it for the common all-lower case.
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c >= 65 && c <= 90) return h.toLowerCase();
  }
  return h;
}

/**
 * Gateway API hostname match: "*" and absent match everything; "*.example.com" matches one or
 * more labels in front of example.com (not example.com itself); otherwise exact.
 */
export function hostnameMatches(pattern: string | undefined, host: string): boolean {
  if (pattern === undefined || pattern === '*') return true;
  if (pattern.charCodeAt(0) === 42 /* * */) {
    const suffix = pattern.slice(1); // ".example.com"
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}

/**
 * Picks among hostname patterns the most specific that matches: exact first, then the longest
 * wildcard suffix, then a catch-all. Built once per apply so lookup is one map probe plus a walk
 * over the (few) wildcards.
 */
export class HostTable<T> {
  private exactHosts = new Map<string, T>();
  private wildcards: { suffix: string; value: T }[] = [];
  private any: T | undefined;

  add(pattern: string | undefined, value: T): void {
    if (pattern === undefined || pattern === '*' || pattern === '') {
      if (this.any === undefined) this.any = value;
    } else if (pattern.startsWith('*.')) {
      const suffix = pattern.slice(1).toLowerCase();
      if (!this.wildcards.some((w) => w.suffix === suffix)) this.wildcards.push({ suffix, value });
      // Longest suffix is the most specific wildcard.
      this.wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    } else if (!this.exactHosts.has(pattern.toLowerCase())) {
      this.exactHosts.set(pattern.toLowerCase(), value);
    }
  }

  /** A table with the same entries, to edit (this one stays as it is: requests may hold it). */
  clone(): HostTable<T> {
    const t = new HostTable<T>();
    t.exactHosts = new Map(this.exactHosts);
    t.wildcards = [...this.wildcards];
    t.any = this.any;
    return t;
  }

  /** Takes out what was added for exactly this pattern. */
  remove(pattern: string | undefined): void {
    if (pattern === undefined || pattern === '*' || pattern === '') this.any = undefined;
    else if (pattern.startsWith('*.')) {
      const suffix = pattern.slice(1).toLowerCase();
      this.wildcards = this.wildcards.filter((w) => w.suffix !== suffix);
    } else this.exactHosts.delete(pattern.toLowerCase());
  }

  /** The value added for exactly this pattern (apply time: reusing what a previous table compiled). */
  exact(pattern: string | undefined): T | undefined {
    if (pattern === undefined || pattern === '*' || pattern === '') return this.any;
    if (pattern.startsWith('*.')) return this.wildcards.find((w) => w.suffix === pattern.slice(1).toLowerCase())?.value;
    return this.exactHosts.get(pattern.toLowerCase());
  }

  lookup(host: string): T | undefined {
    const e = this.exactHosts.get(host);
    if (e !== undefined) return e;
    const w = this.wildcards;
    for (let i = 0; i < w.length; i++) {
      const s = w[i]!.suffix;
      if (host.length > s.length && host.endsWith(s)) return w[i]!.value;
    }
    return this.any;
  }
}
