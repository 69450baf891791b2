// The clusters an IR listener names: its routes' backends and the RequestMirror backends of their
// filters. Cached per listener and per virtual host object: IR objects are never changed once
// built, and a new IR shares every one that did not change (translate/share.ts), so a listener
// the translator reused is not walked again, by the translator (translate/ir.ts: which clusters
// the IR keeps, ListenerContent counting them as entries come and go) nor by the config stream's
// per-Gateway slices (./slice.ts).

import type { HTTPFilter, HTTPRouteEntry, Listener, VirtualHost, WeightedBackend } from './types.js';

/** The clusters each virtual host names, where its builder knew them (translate/ir.ts). */
export const vhostClusters = new WeakMap<VirtualHost, readonly string[]>();
/** The clusters each listener names. */
export const listenerClusters = new WeakMap<Listener, readonly string[]>();

/** Every cluster an IR route entry names: its backends and the mirrors of its and their filters. */
export function entryClusters(r: HTTPRouteEntry, use: (cluster: string) => void): void {
  backendClusters(r.backends, use);
  filterClusters(r.filters, use);
}

function filterClusters(filters: readonly HTTPFilter[] | undefined, use: (cluster: string) => void): void {
  for (const f of filters ?? []) if (f.type === 'RequestMirror' && f.backend.cluster) use(f.backend.cluster);
}

function backendClusters(backends: readonly WeightedBackend[], use: (cluster: string) => void): void {
  for (const b of backends) {
    if (b.cluster) use(b.cluster);
    filterClusters(b.filters, use);
  }
}

/** The same names in both sets (which clusters an IR keeps, which Gateways a slice is for). */
export function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** `to` is a deep-equal copy of `from` (translate/share.ts): it names the same clusters. */
export function sameClustersAs(from: VirtualHost | Listener, to: VirtualHost | Listener): void {
  const known = 'routes' in from ? vhostClusters.get(from) : listenerClusters.get(from as Listener);
  if (!known) return;
  if ('routes' in to) vhostClusters.set(to, known);
  else listenerClusters.set(to as Listener, known);
}

export function clustersOfListener(l: Listener): readonly string[] {
  let out = listenerClusters.get(l);
  if (out) return out;
  const used = new Set<string>();
  const use = (c: string): void => void used.add(c);
  for (const v of l.virtualHosts ?? []) {
    const known = vhostClusters.get(v);
    if (known) for (const c of known) used.add(c);
    else for (const r of v.routes) entryClusters(r, use);
  }
  for (const t of l.tlsRoutes ?? []) backendClusters(t.backends, use);
  if (l.l4Route) backendClusters(l.l4Route.backends, use);
  listenerClusters.set(l, (out = [...used]));
  return out;
}
