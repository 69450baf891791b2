// A change of HTTPRoutes alone, applied to the last translation instead of a new one. What an
// HTTPRoute reaches is small and known: its own status, the attachedRoutes of the listeners it
// attaches to (so those Gateways' and ListenerSets' statuses), the virtual hosts it adds entries
// to, and the clusters and keys its backendRefs name. Everything else of the last translation
// (Gateways, listeners, certificates, every other route's entries and status) stays as it was,
// the same objects. The route is translated by the same code translate() runs for it
// (translateHTTPRoute); what it added before is taken out again (ListenerContent.removeHTTP).
//
// GRPCRoutes the same way: the two kinds share virtual hosts, and of an HTTPRoute and a GRPCRoute
// claiming overlapping hostnames on one listener the older is admitted, so a change whose
// hostnames overlap a route of the other kind on one of its listeners gives way to a full
// translate() (claimsCross). Policy ancestors move by the changed routes' pairs
// (./policy-ancestors.ts); TLSRoutes, TCPRoutes and UDPRoutes are all translated again when one
// changed (./splice-l4.ts). Anything but routes changed: ./splice-world.ts or a full translate()
// (translate/incremental.ts decides). The full translate() stays the reference:
// test/translate/incremental.test.ts checks both give deep-equal results after random changes.

import { Kind } from '../api/names.js';
import type { Resource } from '../api/types.js';
import { namesPort, routeKey } from './attachment.js';
import { compareAge, nsOf } from './context.js';
import { gatewayStatus, listenerConditions } from './gateways.js';
import type { GatewayNode, ListenerNode, ListenerSetNode } from './graph.js';
import type { HTTPRouteEntry, IR, Listener } from '../ir/types.js';
import { HostnameClaims } from './hostnames.js';
import { translateHTTPRoute, type HTTPRouteState, type RouteWorld, type TranslateState } from './index.js';
import { buildIR } from './ir.js';
import { listenerSetStatus } from './listenersets.js';
import { FEW, mergeSorted, upperBound, type RankedEntry } from './precedence.js';
import { routeStatus, type RouteNode } from './routes.js';
import { retranslateL4 } from './splice-l4.js';
import type { Snapshot } from '../store/snapshot.js';
import { deepSame, shareIR } from './share.js';
import type { ObjectStatus, TranslateResult } from './types.js';

/** The route kinds spliceHTTPRoutes takes. */
export const SPLICED_ROUTE_KINDS: ReadonlySet<string> = new Set([Kind.HTTPRoute, Kind.GRPCRoute]);

type HTTPishKind = 'HTTPRoute' | 'GRPCRoute';
const OTHER: Record<HTTPishKind, HTTPishKind> = { HTTPRoute: 'GRPCRoute', GRPCRoute: 'HTTPRoute' };

/** Per listener, the HTTPRoutes and GRPCRoutes that asked to be admitted on it (HTTPRouteState.asked). */
type Askers = Map<ListenerNode, Record<HTTPishKind, Set<HTTPRouteState>>>;
const askersOf = new WeakMap<TranslateState, Askers>();

function askers(state: TranslateState): Askers {
  let out = askersOf.get(state);
  if (!out) {
    askersOf.set(state, (out = new Map()));
    for (const h of state.http.values()) addAsker(out, h);
  }
  return out;
}

function addAsker(index: Askers, h: HTTPRouteState): void {
  for (const a of h.asked ?? []) {
    let m = index.get(a.listener);
    if (!m) index.set(a.listener, (m = { HTTPRoute: new Set(), GRPCRoute: new Set() }));
    m[h.node.kind as HTTPishKind].add(h);
  }
}

function removeAsker(index: Askers, h: HTTPRouteState): void {
  for (const a of h.asked ?? []) index.get(a.listener)?.[h.node.kind as HTTPishKind].delete(h);
}

/**
 * Whether a route of the other kind asked for a hostname overlapping `h`'s on one of `h`'s
 * listeners. Of an HTTPRoute and a GRPCRoute claiming overlapping hostnames on a listener the
 * older is admitted (translateHTTPRoute's admit): a change to either can change the other's
 * result, which the splice does not redo, so it gives way to a full translate().
 */
function claimsCross(index: Askers, h: HTTPRouteState): boolean {
  const other = OTHER[h.node.kind as HTTPishKind];
  for (const a of h.asked ?? []) {
    const them = index.get(a.listener)?.[other];
    if (!them || them.size === 0) continue;
    const mine = new HostnameClaims();
    for (const host of a.hosts) mine.add(host, 'changed');
    for (const d of them) for (const b of d.asked ?? []) if (b.listener === a.listener && b.hosts.some((host) => mine.overlap(host) !== undefined)) return true;
  }
  return false;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const compareStatus = (a: ObjectStatus, b: ObjectStatus): number => cmp(a.kind, b.kind) || cmp(a.namespace ?? '', b.namespace ?? '') || cmp(a.name, b.name);

export interface RouteChange {
  /** routeKey() of the HTTPRoute */
  key: string;
  before?: Resource;
  after?: Resource;
}

/**
 * `prev` (the result `state` produced) updated for `changes`, every one an HTTPRoute; `state`
 * is updated in place. Undefined when the change cannot be placed (the caller then translates
 * in full and must drop `state`, which may be half-updated).
 */
export function spliceHTTPRoutes(state: TranslateState, prev: TranslateResult, changes: readonly RouteChange[], l4?: Snapshot): TranslateResult | undefined {
  const { ctx, content } = state;
  if (!content.sorted) return undefined; // buildIR() sorts them
  const world: RouteWorld = { ctx, parents: state.parents, clusters: state.clusters, content, claims: new Map(), recordAsked: state.recordAsked };
  const touched = new Set<ListenerNode>();
  // How many routes looked up each key: a route's change moves the references only when a count leaves or reaches 0.
  const counts = state.referenceCounts;
  let keysMoved = false;
  const count = (keys: Iterable<string>, by: 1 | -1): void => {
    for (const k of keys) {
      const n = (counts.get(k) ?? 0) + by;
      if (n === 0 || (n === 1 && by === 1)) keysMoved = true;
      if (n === 0) counts.delete(k);
      else counts.set(k, n);
    }
  };
  const reached = { gateways: new Set<GatewayNode>(), listenerSets: new Set<ListenerSetNode>() };
  const reach = (node: RouteNode): void => {
    for (const p of node.parents) {
      reached.gateways.add(p.gateway);
      for (const a of p.attachments) {
        reached.gateways.add(a.listener.gateway);
        if (a.listener.listenerSet) reached.listenerSets.add(a.listener.listenerSet);
      }
    }
  };
  const goneStatus = new Set<string>();
  const newStatus: ObjectStatus[] = [];
  // HTTPRoutes and GRPCRoutes come first in state.routes, together in age order.
  let httpCount = state.http.size;
  // Without GRPCRoutes no claim crosses kinds, and none was recorded: the first GRPCRoute is a full translate().
  const asking = state.recordAsked ? askers(state) : undefined;
  const policies = state.ancestors;

  /** Per listener and hostname, how many entries the changed routes appended to its list. */
  const appended = new Map<ListenerNode, Map<string, number>>();
  // Every change's old version out first, then the new versions in, so that a batch's routes are
  // placed in the age-ordered list by one merge and their order numbers handed out per gap.
  const dropped = new Set<RouteNode>();
  for (const c of changes) {
    const old = state.http.get(c.key);
    if (!old) continue;
    if (asking) {
      if (claimsCross(asking, old)) return undefined;
      removeAsker(asking, old);
    }
    policies?.count(old.node, -1);
    for (const s of old.served) {
      content.removeHTTP(s.listener, s.hostname, s.added);
      touched.add(s.listener);
    }
    for (const p of old.node.parents) for (const a of p.attachments) a.listener.attached.delete(c.key);
    reach(old.node);
    dropped.add(old.node);
    state.http.delete(c.key);
    count(old.references, -1);
    if (namesPort(old.node.resource)) state.routesNamingPort--;
    goneStatus.add(`${old.node.kind}\n${old.node.namespace}\n${old.node.resource.metadata.name}`);
  }
  if (dropped.size > 0 && !dropRoutes(state.routes, httpCount, dropped)) return undefined;
  httpCount -= dropped.size;

  const adding: { kind: HTTPishKind; resource: Resource; key: string }[] = [];
  for (const c of changes) {
    const r = c.after;
    if (!r) continue;
    const kind = r.kind as HTTPishKind;
    if (!SPLICED_ROUTE_KINDS.has(kind) || routeKey(kind, r) !== c.key || state.http.has(c.key)) return undefined;
    if (!asking && kind === Kind.GRPCRoute) return undefined;
    adding.push({ kind, resource: r, key: c.key });
  }
  // translate() orders HTTPRoute before GRPCRoute of the same age and name.
  const ageOrder = (a: { kind: string; resource: Resource }, b: { kind: string; resource: Resource }): number =>
    compareAge(a.resource, b.resource) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);
  if (adding.length > 1) adding.sort(ageOrder);
  // Each new route's place among the kept ones, and an order number in its gap (only compared, never shown).
  const at = adding.map((a) => upperBound<{ kind: string; resource: Resource }>(state.routes, a, ageOrder, httpCount));
  let orders = gapOrders(state.routes, httpCount, at);
  // No room left in a gap: many routes older than the newest came in one gap (a list in name
  // order, after a newer route). The routes are numbered again, as translate() numbers them.
  if (!orders) (renumber(state, httpCount), (orders = gapOrders(state.routes, httpCount, at)!));
  const placing: RouteNode[] = [];
  for (let i = 0; i < adding.length; i++) {
    const { kind, resource: r, key } = adding[i]!;
    const done = translateHTTPRoute(world, kind, r, orders[i]!, key);
    if (asking) {
      if (claimsCross(asking, done)) return undefined;
      addAsker(asking, done);
    }
    policies?.count(done.node, 1);
    // translateHTTPRoute appended the entries: each list puts what the batch appended in precedence order once, below.
    for (const s of done.served) {
      touched.add(s.listener);
      let byHost = appended.get(s.listener);
      if (!byHost) appended.set(s.listener, (byHost = new Map()));
      byHost.set(s.hostname, (byHost.get(s.hostname) ?? 0) + s.added.length);
    }
    reach(done.node);
    placing.push(done.node);
    state.http.set(key, done);
    count(done.references, 1);
    if (namesPort(r)) state.routesNamingPort++;
    goneStatus.add(`${kind}\n${nsOf(r)}\n${r.metadata.name}`);
    if (done.node.parents.length > 0)
      newStatus.push({ kind, namespace: done.node.namespace, name: r.metadata.name, generation: done.node.generation, status: routeStatus(done.node, ctx.controllerName) });
  }
  insertRoutes(state.routes, httpCount, placing, at);
  httpCount += placing.length;

  content.dropRemoved();
  for (const [l, byHost] of appended) for (const [hostname, n] of byHost) content.placeAdded(l, hostname, n);

  // ---- TLSRoutes, TCPRoutes, UDPRoutes: all again when one changed (`l4`, the new snapshot: ./splice-l4.ts)
  if (l4) {
    const redo = retranslateL4(state, l4);
    for (const l of redo.touched) touched.add(l);
    for (const node of redo.gone) {
      reach(node);
      policies?.count(node, -1);
      goneStatus.add(`${node.kind}\n${node.namespace}\n${node.resource.metadata.name}`);
    }
    for (const node of redo.added) {
      reach(node);
      policies?.count(node, 1);
      if (node.parents.length > 0) newStatus.push(routeStatusOf(node, ctx.controllerName));
    }
    if (redo.keysMoved) keysMoved = true;
  }

  // ---- statuses: the changed routes', and every Gateway's and ListenerSet's again (attachedRoutes).
  // The list is sorted (kind, namespace, name): each is found by binary search, not by a scan.
  let statuses = [...prev.statuses];
  let changedStatuses = false;
  const find = (s: ObjectStatus): number => {
    const at = upperBound(statuses, s, compareStatus) - 1;
    return at >= 0 && compareStatus(statuses[at]!, s) === 0 ? at : -1;
  };
  // A route translated again to the same status keeps the previous object (the status writer compares by identity first).
  const removed = new Map<string, ObjectStatus>();
  const gone: number[] = [];
  for (const key of goneStatus) {
    const [kind, namespace, name] = key.split('\n') as [string, string, string];
    const at = find({ kind, namespace, name, status: {} });
    if (at >= 0) (removed.set(key, statuses[at]!), gone.push(at));
  }
  if (gone.length <= FEW) for (const at of gone.sort((a, b) => b - a)) statuses.splice(at, 1);
  else {
    const out = new Set(gone);
    statuses = statuses.filter((_, i) => !out.has(i));
  }
  // attachedRoutes moves only on the listeners a changed route attached to, before or after.
  const again: ObjectStatus[] = [];
  for (const g of state.gateways)
    if (reached.gateways.has(g)) again.push({ kind: Kind.Gateway, namespace: g.namespace, name: g.name, generation: g.generation, status: gatewayStatus(g) });
  for (const ls of state.listenerSets)
    if (reached.listenerSets.has(ls)) again.push({ kind: Kind.ListenerSet, namespace: ls.namespace, name: ls.name, generation: ls.generation, status: listenerSetStatus(ls, listenerConditions) });
  for (const s of again) {
    const at = find(s);
    if (at < 0) return undefined; // every Gateway and ListenerSet has a status: the state does not match `prev`
    if (!deepSame(statuses[at], s)) (statuses[at] = s), (changedStatuses = true);
  }
  for (const s of policies?.statuses() ?? []) {
    const at = find(s);
    if (at < 0) return undefined; // every policy has a status: the state does not match `prev`
    if (!deepSame(statuses[at], s)) (statuses[at] = s), (changedStatuses = true);
  }
  const placed = newStatus.map((s) => {
    const p = removed.get(`${s.kind}\n${s.namespace}\n${s.name}`);
    const keep = p !== undefined && deepSame(p, s);
    if (keep) removed.delete(`${s.kind}\n${s.namespace}\n${s.name}`);
    else changedStatuses = true;
    return keep ? p : s;
  });
  // Each changed route's status was taken out above, so none equals one still in the list.
  if (placed.length <= FEW) for (const s of placed) statuses.splice(upperBound(statuses, s, compareStatus), 0, s);
  else statuses = mergeSorted(statuses, statuses.length, placed.sort(compareStatus), compareStatus);
  if (removed.size > 0) changedStatuses = true;

  // ---- IR: listeners whose virtual hosts changed are built again, every other one reused.
  for (const l of touched) state.listenerIR.delete(l);
  const ir = rebuildIR(state, prev.ir, touched);

  // ---- references: the sorted list is only built again when a key came or went.
  const references = keysMoved || !prev.references ? stateReferences(state, prev.references) : prev.references;

  return { ...prev, ir, statuses: changedStatuses ? statuses : prev.statuses, references };
}

/**
 * Order numbers for routes going to places `at` (ascending) among the first `httpCount` of
 * `nodes`: the k that share a gap spread evenly between its two neighbours' numbers. Undefined
 * when a gap has no room left for them.
 */
function gapOrders(nodes: readonly RouteNode[], httpCount: number, at: readonly number[]): number[] | undefined {
  const out: number[] = new Array(at.length);
  for (let i = 0; i < at.length; ) {
    const lo = at[i]!;
    let k = 1;
    while (i + k < at.length && at[i + k] === lo) k++;
    const below = lo > 0 ? nodes[lo - 1]!.order : -1;
    const above = lo < httpCount ? nodes[lo]!.order : below + k + 1;
    let last = below;
    for (let j = 1; j <= k; j++) {
      const order = below + ((above - below) * j) / (k + 1);
      if (!(order > last && order < above)) return undefined;
      out[i + j - 1] = last = order;
    }
    i += k;
  }
  return out;
}

/** Takes `dropped` out of the first `httpCount` of `nodes`, in place; false when one of them is not there. */
function dropRoutes(nodes: RouteNode[], httpCount: number, dropped: ReadonlySet<RouteNode>): boolean {
  if (dropped.size <= FEW) {
    for (const node of dropped) {
      const at = nodes.indexOf(node);
      if (at < 0 || at >= httpCount) return false;
      nodes.splice(at, 1);
    }
    return true;
  }
  let w = 0;
  for (let r = 0; r < nodes.length; r++) {
    const node = nodes[r]!;
    if (r < httpCount && dropped.has(node)) continue;
    nodes[w++] = node;
  }
  if (nodes.length - w !== dropped.size) return false;
  nodes.length = w;
  return true;
}

/** Puts `placing` (in age order) at places `at` among the first `httpCount` of `nodes`, in place; the routes after them (TLSRoutes, TCPRoutes, UDPRoutes) move up. */
function insertRoutes(nodes: RouteNode[], httpCount: number, placing: readonly RouteNode[], at: readonly number[]): void {
  const m = placing.length;
  if (m <= FEW) {
    for (let j = 0; j < m; j++) nodes.splice(at[j]! + j, 0, placing[j]!);
    return;
  }
  const tail = nodes.length - httpCount;
  nodes.length += m;
  for (let t = tail - 1; t >= 0; t--) nodes[httpCount + m + t] = nodes[httpCount + t]!;
  // Merged from the back: every kept route at or after at[j] goes after placing[j].
  let i = httpCount - 1;
  let k = httpCount + m - 1;
  for (let j = m - 1; j >= 0; j--) {
    while (i >= at[j]!) nodes[k--] = nodes[i--]!;
    nodes[k--] = placing[j]!;
  }
}

/** The HTTPRoutes and GRPCRoutes (the first `httpCount` routes) numbered 0, 1, 2... again, their ranked entries with them. */
function renumber(state: TranslateState, httpCount: number): void {
  for (let i = 0; i < httpCount; i++) state.routes[i]!.order = i;
  for (const h of state.http.values()) for (const s of h.served) for (const e of s.added) e.routeOrder = h.node.order;
}

/**
 * The IR built again from `state`, sharing every part equal to `prev`'s (share.ts); `state` then
 * points at the objects it holds (adoptShared), for `listeners` (all when omitted).
 */
export function rebuildIR(state: TranslateState, prev: IR, listeners?: ReadonlySet<ListenerNode>): IR {
  const shared = new Map<HTTPRouteEntry, HTTPRouteEntry>();
  const ir = shareIR(prev, buildIR(state.gateways, state.content, state.clusters, state.listenerIR), shared);
  adoptShared(state, ir, shared, listeners);
  return ir;
}

/** A result's references from `state`: what the translation outside HTTPRoutes and GRPCRoutes looked up, and each route's, sorted; `prev` when equal. */
export function stateReferences(state: TranslateState, prev: string[] | undefined): string[] {
  const refs = new Set(state.base);
  for (const k of state.referenceCounts.keys()) refs.add(k);
  const sorted = [...refs].sort();
  return prev && deepSame(prev, sorted) ? prev : sorted;
}

/** A route's entry in the status list, as translate() writes it. */
export function routeStatusOf(node: RouteNode, controllerName: string): ObjectStatus {
  return { kind: node.kind, namespace: node.namespace, name: node.resource.metadata.name, generation: node.generation, status: routeStatus(node, controllerName) };
}


/**
 * After `ir` was shared with the previous result (share.ts), make `state` point at the objects
 * `ir` holds: the IR listener of each of `listeners` (all when omitted), and each route entry
 * `entries` maps. The next splice then rebuilds from the same objects the result holds, and
 * sharing it with that result is a matter of identity, not of comparing 10,000 entries.
 */
export function adoptShared(state: TranslateState, ir: IR, entries: ReadonlyMap<HTTPRouteEntry, HTTPRouteEntry>, listeners?: ReadonlySet<ListenerNode>): void {
  if (entries.size > 0) {
    const replaced = new Set<RankedEntry>();
    for (const [l, hosts] of state.content.http) {
      if (listeners && !listeners.has(l)) continue;
      for (const list of hosts.values())
        for (const r of list) {
          const s = entries.get(r.entry);
          if (s !== undefined && s !== r.entry) (r.entry = s), replaced.add(r);
        }
    }
    // A route attached to several listeners is one RankedEntry in each of their lists: every list
    // holding a replaced one hands out its IR routes anew, or the next build would give another
    // listener the replaced objects again and the splices after it would compare its 10,000 entries.
    if (replaced.size > 0)
      for (const hosts of state.content.http.values())
        for (const list of hosts.values()) if (list.some((r) => replaced.has(r))) state.content.entriesReplaced(list);
  }
  const byName = new Map<string, Listener>();
  for (const p of ir.ports) for (const l of p.listeners) byName.set(l.name, l);
  for (const [l, built] of state.listenerIR) {
    if (listeners && !listeners.has(l)) continue;
    // With a backend client certificate the served listener is a rewrite of the built one (backendtls-client.ts).
    if (l.gateway.backendClientCertificate) continue;
    const served = byName.get(l.id);
    if (served !== undefined && served !== built) state.listenerIR.set(l, served);
  }
}
