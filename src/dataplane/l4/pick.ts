// Backend choice for one new L4 connection or UDP session: a weighted draw over the
// route's backendRefs, then round-robin over that cluster's endpoints.

import type { Cluster, Endpoint, WeightedBackend } from '../../ir/types.js';

export type Pick =
  | { ok: true; cluster: Cluster; endpoints: Endpoint[] } // endpoints in the order to try them
  | { ok: false; reason: string; cluster?: string }; // cluster: the chosen backendRef's, when it names one (for the metrics' backend label)

export class BackendPicker {
  private readonly cursor = new Map<string, number>();

  pick(backends: readonly WeightedBackend[], clusters: Record<string, Cluster>, random = Math.random): Pick {
    let total = 0;
    for (const b of backends) total += b.weight > 0 ? b.weight : 0;
    if (total === 0) return { ok: false, reason: 'route has no backend with weight > 0' };
    let r = random() * total;
    let chosen = backends[backends.length - 1]!;
    for (const b of backends) {
      if (b.weight <= 0) continue;
      if (r < b.weight) {
        chosen = b;
        break;
      }
      r -= b.weight;
    }
    // An invalid backendRef keeps its share of the weight; for L4 that share is refused (spec).
    if (chosen.cluster === undefined) return { ok: false, reason: chosen.invalid?.reason ?? 'invalid backendRef' };
    const cluster = clusters[chosen.cluster];
    if (cluster === undefined) return { ok: false, reason: `cluster ${chosen.cluster} not found`, cluster: chosen.cluster };
    const eps = cluster.endpoints;
    if (eps.length === 0) return { ok: false, reason: `cluster ${cluster.name} has no ready endpoints`, cluster: cluster.name };
    const start = (this.cursor.get(cluster.name) ?? 0) % eps.length;
    this.cursor.set(cluster.name, start + 1);
    return { ok: true, cluster, endpoints: start === 0 ? eps : [...eps.slice(start), ...eps.slice(0, start)] };
  }
}
