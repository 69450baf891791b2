// An Ingress Portico stops serving (its class now names another controller, its IngressClass
// was deleted or changed, or `--ingress-controller none`) loses the status.loadBalancer
// Portico wrote, as ingress-nginx clears the status of Ingresses it no longer owns.
//
// Ingress status has no controllerName to tell whose it is, so ownership is decided by value:
// the status is cleared only when every entry of status.loadBalancer.ingress is an address
// Portico reports (a Portico Gateway's address as reported, the address a wildcard bind is
// reported as, or one this process wrote to an Ingress). Another controller's status (its own
// Service or node addresses) never matches, so it is left alone, including when that
// controller got there first. The one case this cannot tell apart is another controller
// reporting the very same address as a Portico Gateway; then the status is cleared and that
// controller writes it back on its next sync. A restarted process forgets what it wrote, so a
// status naming a Gateway that is gone (a loopback address of a generated Gateway) stays.
//
// The clear is a compare-and-clear: the writer writes it only while the stored status still
// equals the one judged ours (ObjectStatus.expect), so a controller that takes the Ingress
// over between this rebuild and the write keeps its status.

import { Kind } from '../api/names.js';
import type { Resource } from '../api/types.js';
import type { Snapshot } from '../store/snapshot.js';
import type { ObjectStatus } from '../translate/types.js';

interface LoadBalancerEntry {
  ip?: string;
  hostname?: string;
}

const entriesOf = (status: unknown): LoadBalancerEntry[] => (status as { loadBalancer?: { ingress?: LoadBalancerEntry[] } } | undefined)?.loadBalancer?.ingress ?? [];

/**
 * Clearing statuses for the Ingresses `statuses` does not speak for whose stored
 * status.loadBalancer lists only addresses in `ours`. Pure.
 */
export function releasedIngresses(ingresses: readonly Resource[], statuses: readonly ObjectStatus[], ours: ReadonlySet<string>): ObjectStatus[] {
  const served = new Set(statuses.filter((s) => s.kind === Kind.Ingress).map((s) => `${s.namespace ?? ''}/${s.name}`));
  const out: ObjectStatus[] = [];
  for (const i of ingresses) {
    if (served.has(`${i.metadata.namespace ?? ''}/${i.metadata.name}`)) continue;
    const entries = entriesOf(i.status);
    if (entries.length === 0 || !entries.every((e) => ours.has(e.ip ?? e.hostname ?? ''))) continue;
    out.push({
      kind: Kind.Ingress,
      namespace: i.metadata.namespace,
      name: i.metadata.name,
      status: { loadBalancer: {} },
      expect: i.status as Record<string, unknown>,
    });
  }
  return out;
}

/**
 * extendStatuses step: `statuses` plus the clears of Ingresses no longer served. `reported`
 * maps a bound address to the reachable one the controller reports (loop.ts decorate), so
 * the addresses compared are the ones that were written.
 */
export function ingressReleaser(reported?: (bound: string) => string | undefined): (snapshot: Snapshot, statuses: readonly ObjectStatus[]) => readonly ObjectStatus[] {
  const written = new Set<string>();
  const asReported = (a: string) => reported?.(a) ?? a;
  return (snapshot, statuses) => {
    // No stored Ingress: nothing to release, and no Ingress status to learn addresses from. Most
    // clusters; the two walks of every status (10,000 at 10,000 routes) ran after every rebuild.
    const ingresses = snapshot.list(Kind.Ingress);
    if (ingresses.length === 0) return statuses;
    const ours = new Set<string>(written);
    const wildcard = reported?.('0.0.0.0');
    if (wildcard) ours.add(wildcard);
    for (const s of statuses) {
      if (s.kind === Kind.Gateway) for (const a of (s.status as { addresses?: { value: string }[] }).addresses ?? []) ours.add(asReported(a.value));
      if (s.kind === Kind.Ingress)
        for (const e of entriesOf(s.status)) {
          const a = e.ip !== undefined ? asReported(e.ip) : e.hostname;
          if (!a) continue;
          written.add(a);
          ours.add(a);
        }
    }
    const released = releasedIngresses(ingresses, statuses, ours);
    return released.length === 0 ? statuses : [...statuses, ...released];
  };
}
