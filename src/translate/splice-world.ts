// A change of Gateways, ListenerSets, GatewayClasses or Secrets alone, applied to the last
// translation. The Gateways and their listeners are built again from the new snapshot (the same
// buildGateways() translate() runs: conditions, conflicts, certificates), but the routes are not
// translated again when nothing a route's attachment reads has changed: for every Gateway and
// ListenerSet, the same listeners (by name, in order) with the same hostname, allowedRoutes,
// supported kinds, port (when some parentRef names a port), the same acceptance, and the same
// ListenerSets attached. Each route's result then holds as it was; it is moved onto the new
// listener nodes, and only statuses of GatewayClasses, Gateways and ListenerSets and the IR
// listeners are rebuilt. A Secret rotation or a listener moved to another port costs the
// Gateways, not the 10,000 routes.
//
// Same limits as ./splice.ts (no GRPCRoute or policies), and no TLSRoute, TCPRoute or UDPRoute
// (their results are not kept per route). test/translate/incremental.test.ts checks the result
// equals a full translate().

import { Kind } from '../api/names.js';
import type { ParentReference } from '../api/types.js';
import type { HTTPRouteEntry } from '../ir/types.js';
import type { Parents } from './attachment.js';
import { Context, generationOf } from './context.js';
import { buildGatewayClasses } from './gatewayclass.js';
import { buildGateways, gatewayStatus, listenerConditions } from './gateways.js';
import type { GatewayNode, ListenerNode, ListenerSetNode } from './graph.js';
import type { TranslateState } from './index.js';
import { buildIR } from './ir.js';
import { listenerSetStatus } from './listenersets.js';
import { deepSame, shareIR } from './share.js';
import { adoptShared, compareStatus, upperBound } from './splice.js';
import type { ObjectStatus, TranslateOptions, TranslateResult } from './types.js';
import { arr } from './util.js';
import type { Snapshot } from '../store/snapshot.js';

/** Kinds a world splice takes; any other change is a route splice or a full translate(). */
export const WORLD_KINDS: ReadonlySet<string> = new Set([Kind.Gateway, Kind.ListenerSet, Kind.GatewayClass, Kind.Secret]);
const L4_KINDS = [Kind.TLSRoute, Kind.TCPRoute, Kind.UDPRoute];

/** Everything attachRoute() reads of a listener (see the file comment). */
function listenerSignature(l: ListenerNode, withPort: boolean): unknown[] {
  return [
    l.id,
    l.spec.name,
    withPort ? l.spec.port : 0,
    l.spec.hostname ?? null,
    l.spec.allowedRoutes ?? null,
    l.supportedKinds.map((k) => k.kind),
    l.listenerSet ? `${l.listenerSet.namespace}/${l.listenerSet.name}` : null,
    l.gateway.namespace,
  ];
}

function gatewaySignature(g: GatewayNode, withPort: boolean): string {
  return JSON.stringify([g.rejected ?? null, g.listeners.map((l) => listenerSignature(l, withPort)), g.listenerSets.map((ls) => `${ls.namespace}/${ls.name}`)]);
}

function listenerSetSignature(ls: ListenerSetNode, withPort: boolean): string {
  return JSON.stringify([`${ls.gateway.namespace}/${ls.gateway.name}`, ls.accepted?.message ?? null, ls.listeners.map((l) => listenerSignature(l, withPort))]);
}

function signatures(parents: Parents, withPort: boolean): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, g] of parents.gateways) out.set(`G ${k}`, gatewaySignature(g, withPort));
  for (const [k, ls] of parents.listenerSets) out.set(`L ${k}`, listenerSetSignature(ls, withPort));
  return out;
}

function allListenerNodes(gateways: readonly GatewayNode[], listenerSets: readonly ListenerSetNode[]): Map<string, ListenerNode> | undefined {
  const out = new Map<string, ListenerNode>();
  let n = 0;
  for (const g of gateways) for (const l of g.listeners) (out.set(l.id, l), n++);
  for (const ls of listenerSets) for (const l of ls.listeners) (out.set(l.id, l), n++);
  return out.size === n ? out : undefined; // two listeners with one id: no safe mapping
}

/** The statuses translate() gives GatewayClasses, Gateways and ListenerSets. */
function worldStatuses(state: TranslateState): ObjectStatus[] {
  const out: ObjectStatus[] = [];
  for (const gc of state.classes.values())
    out.push({ kind: Kind.GatewayClass, name: gc.resource.metadata.name, generation: generationOf(gc.resource), status: { conditions: gc.conditions } });
  for (const g of state.gateways) out.push({ kind: Kind.Gateway, namespace: g.namespace, name: g.name, generation: g.generation, status: gatewayStatus(g) });
  for (const ls of state.listenerSets)
    out.push({ kind: Kind.ListenerSet, namespace: ls.namespace, name: ls.name, generation: ls.generation, status: listenerSetStatus(ls, listenerConditions) });
  return out;
}

/**
 * `prev` (the result `state` produced) for `snapshot`, where only WORLD_KINDS changed; `state`
 * is updated in place. Undefined when a route's attachment may have changed (the caller then
 * translates in full and drops `state`).
 */
export function spliceWorld(state: TranslateState, prev: TranslateResult, snapshot: Snapshot, options: TranslateOptions): TranslateResult | undefined {
  for (const k of L4_KINDS) if (snapshot.entries(k).length > 0) return undefined;
  if (state.routes.length !== state.http.size) return undefined;
  const ctx = new Context(snapshot, options);
  const classes = buildGatewayClasses(ctx);
  const { gateways, listenerSets } = buildGateways(ctx, classes);
  const parents: Parents = {
    gateways: new Map(gateways.map((g) => [`${g.namespace}/${g.name}`, g])),
    listenerSets: new Map(listenerSets.map((ls) => [`${ls.namespace}/${ls.name}`, ls])),
  };
  let withPort = false;
  for (const h of state.http.values()) {
    const refs = arr<ParentReference>((h.node.resource.spec as { parentRefs?: unknown } | undefined)?.parentRefs);
    if (refs.some((p) => p.port !== undefined)) withPort = true;
  }
  const before = signatures(state.parents, withPort);
  const after = signatures(parents, withPort);
  if (before.size !== after.size) return undefined;
  for (const [k, s] of before) if (after.get(k) !== s) return undefined;
  const oldListeners = allListenerNodes(state.gateways, state.listenerSets);
  const newListeners = allListenerNodes(gateways, listenerSets);
  if (!oldListeners || !newListeners || oldListeners.size !== newListeners.size) return undefined;
  const listenerOf = (l: ListenerNode): ListenerNode => {
    const n = newListeners.get(l.id);
    if (!n) throw new Error(`listener ${l.id} is gone`);
    return n;
  };
  const gatewayOf = (g: GatewayNode): GatewayNode => {
    const n = parents.gateways.get(`${g.namespace}/${g.name}`);
    if (!n) throw new Error(`Gateway ${g.namespace}/${g.name} is gone`);
    return n;
  };

  // ---- every route's result onto the new nodes
  for (const [id, l] of oldListeners) newListeners.get(id)!.attached = l.attached;
  const moved = [...state.content.http];
  state.content.http.clear();
  for (const [l, hosts] of moved) state.content.http.set(listenerOf(l), hosts);
  for (const h of state.http.values()) {
    for (const p of h.node.parents) {
      p.gateway = gatewayOf(p.gateway);
      for (const a of p.attachments) a.listener = listenerOf(a.listener);
    }
    for (const s of h.served) s.listener = listenerOf(s.listener);
  }
  state.classes = classes;
  state.gateways = gateways;
  state.listenerSets = listenerSets;
  state.parents = parents;
  state.base = ctx.base;
  state.listenerIR = new Map();

  // ---- statuses: the Gateway side again, every route's kept
  const world = worldStatuses(state);
  const old = new Map<string, ObjectStatus>();
  const statuses: ObjectStatus[] = [];
  for (const s of prev.statuses) {
    if (s.kind === Kind.GatewayClass || s.kind === Kind.Gateway || s.kind === Kind.ListenerSet) old.set(`${s.kind}/${s.namespace ?? ''}/${s.name}`, s);
    else statuses.push(s);
  }
  for (const s of world.sort(compareStatus)) {
    const p = old.get(`${s.kind}/${s.namespace ?? ''}/${s.name}`);
    statuses.splice(upperBound(statuses, s, compareStatus), 0, p !== undefined && deepSame(p, s) ? p : s);
  }
  const sameStatuses = statuses.length === prev.statuses.length && statuses.every((s, i) => s === prev.statuses[i]);

  // ---- IR: every listener built again from the kept route lists; sharing keeps what is equal
  const shared = new Map<HTTPRouteEntry, HTTPRouteEntry>();
  const ir = shareIR(prev.ir, buildIR(gateways, state.content, state.clusters, state.listenerIR), shared);
  adoptShared(state, ir, shared);

  const refs = new Set(state.base);
  for (const h of state.http.values()) for (const k of h.references) refs.add(k);
  const sorted = [...refs].sort();
  const references = prev.references && deepSame(prev.references, sorted) ? prev.references : sorted;
  return { ...prev, ir, statuses: sameStatuses ? prev.statuses : statuses, references };
}
