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
// The new nodes' verdicts are copied into the old node objects, which every route's result
// already points at, so no route is touched. TLSRoutes, TCPRoutes and UDPRoutes read more of a
// listener (its TLS mode) and are few: they are translated again (./splice-l4.ts). Policies read
// no Gateway or Secret and stay as built. test/translate/incremental.test.ts checks the result
// equals a full translate().

import { Kind } from '../api/names.js';
import type { Listener as IRListener } from '../ir/types.js';
import type { Parents } from './attachment.js';
import { Context, generationOf } from './context.js';
import { buildGatewayClasses } from './gatewayclass.js';
import { buildGateways, gatewayStatus, listenerConditions } from './gateways.js';
import type { GatewayNode, ListenerNode, ListenerSetNode } from './graph.js';
import type { TranslateState } from './index.js';
import { listenerHeader } from './ir.js';
import { sameClustersAs } from '../ir/listener-clusters.js';
import { listenerSetStatus } from './listenersets.js';
import { deepSame } from './share.js';
import { compareStatus, rebuildIR, routeStatusOf, stateReferences } from './splice.js';
import { upperBound } from './precedence.js';
import { retranslateL4 } from './splice-l4.js';

import type { ObjectStatus, TranslateOptions, TranslateResult } from './types.js';
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
  const policies = state.ancestors;
  const ctx = new Context(snapshot, options);
  const classes = buildGatewayClasses(ctx);
  const { gateways, listenerSets } = buildGateways(ctx, classes);
  const parents: Parents = {
    gateways: new Map(gateways.map((g) => [`${g.namespace}/${g.name}`, g])),
    listenerSets: new Map(listenerSets.map((ls) => [`${ls.namespace}/${ls.name}`, ls])),
  };
  const withPort = state.routesNamingPort > 0;
  const before = signatures(state.parents, withPort);
  const after = signatures(parents, withPort);
  if (before.size !== after.size) return undefined;
  for (const [k, s] of before) if (after.get(k) !== s) return undefined;
  const oldListeners = allListenerNodes(state.gateways, state.listenerSets);
  const newListeners = allListenerNodes(gateways, listenerSets);
  if (!oldListeners || !newListeners || oldListeners.size !== newListeners.size) return undefined;
  for (const id of newListeners.keys()) if (!oldListeners.has(id)) return undefined;

  // ---- the new nodes' verdicts into the old node objects, which every route's result (parents,
  // attachments, served lists, the listeners' content) already points at: nothing of 10,000 routes
  // is touched. Signatures equal means one old node per new one, found by key.
  const gatewayOf = (g: GatewayNode): GatewayNode => state.parents.gateways.get(`${g.namespace}/${g.name}`)!;
  const listenerSetOf = (ls: ListenerSetNode): ListenerSetNode => state.parents.listenerSets.get(`${ls.namespace}/${ls.name}`)!;
  const listenerOf = (l: ListenerNode): ListenerNode => oldListeners.get(l.id)!;
  const oldHeads = new Map<ListenerNode, IRListener>();
  for (const l of newListeners.values()) {
    const o = listenerOf(l);
    oldHeads.set(o, listenerHeader(o));
    adoptInto(o, { ...l, attached: o.attached, gateway: gatewayOf(l.gateway), ...(l.listenerSet ? { listenerSet: listenerSetOf(l.listenerSet) } : {}) });
  }
  for (const g of gateways) adoptInto(gatewayOf(g), { ...g, listeners: g.listeners.map(listenerOf), listenerSets: g.listenerSets.map(listenerSetOf) });
  for (const ls of listenerSets) adoptInto(listenerSetOf(ls), { ...ls, gateway: gatewayOf(ls.gateway), listeners: ls.listeners.map(listenerOf) });
  state.classes = classes;
  state.gateways = gateways.map(gatewayOf);
  state.listenerSets = listenerSets.map(listenerSetOf);
  state.parents = { gateways: new Map(state.gateways.map((g) => [`${g.namespace}/${g.name}`, g])), listenerSets: new Map(state.listenerSets.map((ls) => [`${ls.namespace}/${ls.name}`, ls])) };
  const baseBefore = state.base;
  state.gatewayBase = new Set(ctx.base);
  state.base = ctx.base;
  for (const k of state.policyBase) state.base.add(k);
  for (const k of state.l4Base) state.base.add(k);
  // TLSRoutes, TCPRoutes and UDPRoutes read more of a listener than attachment does (TLS mode): all of them again (./splice-l4.ts).
  const l4 = state.routes.length > state.http.size || L4_KINDS.some((k) => snapshot.entries(k).length > 0) ? retranslateL4(state, snapshot) : undefined;

  // ---- IR listeners: the routes they serve are the same, so a listener whose own fields (name,
  // protocol, hostname, TLS) did not change keeps its IR object, and one whose did keeps its
  // virtual hosts; buildIR() then only places them on ports.
  for (const [l, built] of state.listenerIR) {
    const head = listenerHeader(l);
    const was = oldHeads.get(l);
    if (was === undefined || head.protocol !== was.protocol) state.listenerIR.delete(l);
    else if (!deepSame(was, head)) {
      if (built.virtualHosts) head.virtualHosts = built.virtualHosts;
      if (built.tlsRoutes) head.tlsRoutes = built.tlsRoutes;
      if (built.l4Route) head.l4Route = built.l4Route;
      sameClustersAs(built, head);
      state.listenerIR.set(l, head);
    }
  }

  // ---- statuses: the Gateway side again (each found by binary search), every route's kept
  const world = worldStatuses(state);
  const statuses = [...prev.statuses];
  let changedStatuses = false;
  const find = (s: ObjectStatus): number => {
    const at = upperBound(statuses, s, compareStatus) - 1;
    return at >= 0 && compareStatus(statuses[at]!, s) === 0 ? at : -1;
  };
  const now = new Set<string>();
  for (const s of world) {
    now.add(`${s.kind}/${s.namespace ?? ''}/${s.name}`);
    const at = find(s);
    if (at < 0) (statuses.splice(upperBound(statuses, s, compareStatus), 0, s), (changedStatuses = true));
    else if (!deepSame(statuses[at], s)) (statuses[at] = s), (changedStatuses = true);
  }
  // GatewayClasses may come and go (Gateways and ListenerSets may not: their signatures matched).
  for (const s of prev.statuses)
    if (s.kind === Kind.GatewayClass && !now.has(`${s.kind}/${s.namespace ?? ''}/${s.name}`)) {
      const at = find(s);
      if (at >= 0) (statuses.splice(at, 1), (changedStatuses = true));
    }

  if (l4) {
    for (const l of l4.touched) state.listenerIR.delete(l);
    const was = new Map<string, ObjectStatus>();
    for (const node of l4.gone) {
      policies?.count(node, -1);
      const at = find({ kind: node.kind, namespace: node.namespace, name: node.resource.metadata.name, status: {} });
      if (at >= 0) (was.set(`${node.kind}/${node.namespace}/${node.resource.metadata.name}`, statuses[at]!), statuses.splice(at, 1));
    }
    for (const node of l4.added) {
      policies?.count(node, 1);
      if (node.parents.length === 0) continue;
      const s = routeStatusOf(node, state.ctx.controllerName);
      const p = was.get(`${node.kind}/${node.namespace}/${node.resource.metadata.name}`);
      statuses.splice(upperBound(statuses, s, compareStatus), 0, p !== undefined && deepSame(p, s) ? p : s);
    }
  }
  for (const s of policies?.statuses() ?? []) {
    const at = find(s);
    if (at < 0) return undefined;
    if (!deepSame(statuses[at], s)) (statuses[at] = s), (changedStatuses = true);
  }
  if (l4 && !changedStatuses) changedStatuses = statuses.length !== prev.statuses.length || statuses.some((s, i) => s !== prev.statuses[i]);

  // ---- IR: listeners placed on ports again; sharing keeps what is equal
  const ir = rebuildIR(state, prev.ir);

  // ---- references: the routes' are the same; the list is built again only when the Gateways looked up other keys
  const baseMoved = baseBefore.size !== state.base.size || [...state.base].some((k) => !baseBefore.has(k));
  const references = !prev.references || baseMoved ? stateReferences(state, prev.references) : prev.references;
  return { ...prev, ir, statuses: changedStatuses ? statuses : prev.statuses, references };
}

/** `node` made equal to `next`, field by field: the same object, so whatever points at it sees the new verdicts. */
function adoptInto<T extends object>(node: T, next: T): void {
  const o = node as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!Object.hasOwn(next, k)) delete o[k];
  Object.assign(o, next);
}
