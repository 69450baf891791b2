// The part of the IR one Gateway's own data plane serves (or a merged data plane, the part of
// all its Gateways): a pure function of the full IR.
//
// - ports: only those that keep at least one of the Gateway's listeners, each with only those
//   listeners (Listener.name is `${namespace}/${name}/${listener}`);
// - clusters: only those the kept listeners' routes, backend filters and RequestMirror filters
//   name (keys in the full IR's order, which is sorted);
// - certificates: listener certificates travel inside the kept listeners, BackendTLSPolicy
//   client certificates inside the kept clusters, so nothing another Gateway references is left.
//
// No copying beyond what filtering needs: kept Listener and Cluster objects are the full IR's
// own (immutable) objects, so sealed key material (./keys.ts) stays attached to them.

import type { Cluster, IR, Listener, Port } from './types.js';
import { clustersOfListener, sameSet } from './listener-clusters.js';
import { followPatch, keysBetween } from './record-patch.js';

/** A slice made before: the IR it was cut from, for which Gateways, and what came out. */
export interface Slice {
  from: IR;
  gateways: ReadonlySet<string>;
  ir: IR;
}

/** `namespace/name` of the Gateway a listener belongs to (Listener.name without its last segment). */
export function gatewayOfListener(listenerName: string): string {
  const cut = listenerName.lastIndexOf('/');
  return cut < 0 ? listenerName : listenerName.slice(0, cut);
}

/** The IR the data plane of Gateway `gateway` (`namespace/name`) serves; `last`: as for sliceForGateways. */
export function sliceForGateway(ir: IR, gateway: string, last?: Slice): IR {
  return sliceForGateways(ir, new Set([gateway]), last);
}

/**
 * The IR a data plane serving all of `gateways` serves (a merged data plane: one per GatewayClass).
 * `last`: the previous slice for these Gateways. An IR with the same ports and a few clusters
 * replaced (an EndpointSlice change, ./record-patch.ts) is cut as that slice was, with the same
 * replacements: not a walk of every cluster per Gateway, and a record the Gateway's config-stream
 * encoder takes a few clusters at a time.
 */
export function sliceForGateways(ir: IR, gateways: ReadonlySet<string>, last?: Slice): IR {
  const again = last && last.from.ports === ir.ports && sameSet(last.gateways, gateways) ? sliceAgain(ir, last) : undefined;
  if (again) return again;
  const ports: Port[] = [];
  const used = new Set<string>();
  let whole = true;
  for (const port of ir.ports) {
    const listeners = port.listeners.filter((l) => gateways.has(gatewayOfListener(l.name)));
    if (listeners.length !== port.listeners.length) whole = false;
    if (listeners.length === 0) continue;
    // Cached per listener (./listener-clusters.ts): a listener the translator reused costs a lookup.
    for (const l of listeners) for (const c of clustersOfListener(l)) used.add(c);
    ports.push(listeners.length === port.listeners.length ? port : narrowed(port, listeners));
  }
  const names = Object.keys(ir.clusters);
  // Every port whole and every cluster named (a single Gateway's data plane, or all of them
  // merged): the IR itself, whose unchanged parts the config stream's encoder knows by identity.
  if (whole && names.length === used.size && names.every((n) => used.has(n))) return { ports: ir.ports, clusters: ir.clusters };
  const clusters: Record<string, Cluster> = {};
  for (const name of names) if (used.has(name)) clusters[name] = ir.clusters[name]!;
  return { ports: whole ? ir.ports : ports, clusters };
}

/** `ir` cut as `last` was, when only clusters were replaced since `last.from` (the same listeners name the same clusters). */
function sliceAgain(ir: IR, last: Slice): IR | undefined {
  if (ir.clusters === last.from.clusters) return last.ir;
  const between = keysBetween(ir.clusters, last.from.clusters);
  if (!between) return undefined;
  // Every cluster kept: the IR's own record, as the full cut gives it.
  if (last.ir.clusters === last.from.clusters) return { ports: last.ir.ports, clusters: ir.clusters };
  const kept = last.ir.clusters;
  return { ports: last.ir.ports, clusters: followPatch(kept, ir.clusters, between, (k) => Object.hasOwn(kept, k))! };
}

/**
 * A port keeping only some of its listeners. A mixed HTTPS+TLS port (translate/ir.ts) whose kept
 * listeners are all TLS, or all HTTPS, is a plain TLS or HTTPS port again: with per-Gateway data
 * planes every Gateway's listeners sit on 0.0.0.0, so one Gateway's TLS listener and another's
 * HTTPS listener on the same port number merge in the full IR, and the TLS Gateway's own data
 * plane must not answer an unknown SNI as an HTTPS server would (a TLS alert instead of closing).
 */
function narrowed(port: Port, listeners: Listener[]): Port {
  const mixed = port.protocol === 'HTTPS' && port.name.endsWith('/HTTPS+TLS');
  if (!mixed) return { ...port, listeners };
  const protocols = new Set(listeners.map((l) => l.protocol));
  if (protocols.size !== 1) return { ...port, listeners };
  const protocol = protocols.has('TLS') ? 'TLS' : 'HTTPS';
  return { ...port, name: `${port.address}:${port.port}/${protocol}`, protocol, listeners };
}

/** Every Gateway (`namespace/name`) with at least one listener in `ir`, sorted. */
export function gatewaysInIR(ir: IR): string[] {
  const out = new Set<string>();
  for (const p of ir.ports) for (const l of p.listeners) out.add(gatewayOfListener(l.name));
  return [...out].sort();
}
