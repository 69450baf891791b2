// OverlappingTLSConfig (GEP-3567): HTTPS listeners of one Gateway on the same port whose
// hostnames overlap (one matches a name the other does: "*.example.com" and
// "foo.example.com", or a listener without hostname and any other) invite HTTP/2 connection
// coalescing to carry a request to the wrong listener's configuration. The spec says
// controllers MUST detect overlapping hostnames and set the condition on every such listener;
// it is a warning (traffic is unaffected) and is absent, never False, when there is none.
// Identical hostnames are a HostnameConflict already and are not counted again here.
//
// ListenerSets (GEP-1713): "Implementations MUST treat the parent Gateway as having the merged
// list of all listeners from itself and attached ListenerSets", so the check runs over that
// merged list: a ListenerSet's "*.example.com" overlaps the Gateway's "foo.example.com" on the
// same port, and both get the condition. Call once the ListenerSets' conflicts are decided.

import { allListeners, type GatewayNode, type ListenerNode } from './graph.js';

/** Whether some hostname matches both patterns (undefined = any host). */
function overlaps(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return true;
  if (a === b) return true;
  const wa = a.startsWith('*.');
  const wb = b.startsWith('*.');
  // "*.x" matches one or more labels in front of "x".
  if (wa && wb) return a.endsWith(b.slice(1)) || b.endsWith(a.slice(1));
  if (wa) return b.endsWith(a.slice(1));
  if (wb) return a.endsWith(b.slice(1));
  return false;
}

/**
 * How `l`'s condition names `o`: its bare name when both come from the same resource (the
 * Gateway or one ListenerSet), else qualified, since listener names are unique only within
 * their own resource.
 */
function nameFor(l: ListenerNode, o: ListenerNode): string {
  if (l.listenerSet === o.listenerSet) return o.spec.name;
  return o.listenerSet
    ? `${o.spec.name} of ListenerSet ${o.listenerSet.namespace}/${o.listenerSet.name}`
    : `${o.spec.name} of Gateway ${o.gateway.namespace}/${o.gateway.name}`;
}

export function markOverlappingTLS(gw: GatewayNode): void {
  const byPort = new Map<number, ListenerNode[]>();
  for (const l of allListeners(gw)) {
    if (l.spec.protocol !== 'HTTPS' || !l.accepted || l.conflicted) continue;
    let list = byPort.get(l.spec.port);
    if (!list) byPort.set(l.spec.port, (list = []));
    list.push(l);
  }
  for (const list of byPort.values()) {
    for (const l of list) {
      const others = list.filter((o) => o !== l && overlaps(l.spec.hostname, o.spec.hostname)).map((o) => nameFor(l, o));
      if (others.length) l.overlappingTLS = others;
    }
  }
}
