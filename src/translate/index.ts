// translate(snapshot) -> { ir, statuses }: the pure function holding all Gateway API
// semantics. Same snapshot in, same bytes out: no I/O, no clock, no randomness; every
// list is sorted by something in the input.
//
// Order of work (each step reads only what earlier steps built):
//   GatewayClasses -> Gateways + listeners (+ conflicts) -> BackendTLSPolicies ->
//   HTTPRoute+GRPCRoute (oldest first, so the older wins hostname clashes between kinds) ->
//   TLSRoute -> TCPRoute -> UDPRoute (oldest first, one per listener) -> statuses -> IR.

import type { GRPCRoute, HTTPRoute, ParentReference, Resource } from '../api/types.js';
import { Kind } from '../api/names.js';
import type { Snapshot } from '../store/snapshot.js';
import { attachRoute, namesPort, routeKey, type AttachInput, type Parents } from './attachment.js';
import { Clusters, type BackendUse } from './backends.js';
import { BackendTLSPolicies } from './backendtlspolicy.js';
import { PolicyAncestors } from './policy-ancestors.js';
import { Reason, Type, condition } from './conditions.js';
import { arr, exact } from './util.js';
import { Context, generationOf, nsOf, sortByAge } from './context.js';
import { buildGatewayClasses } from './gatewayclass.js';
import { buildGateways, gatewayStatus, listenerConditions } from './gateways.js';
import { listenerSetStatus } from './listenersets.js';
import type { GatewayClassNode, GatewayNode, ListenerNode, ListenerSetNode } from './graph.js';
import { grpcRouteEntries } from './grpcroute.js';
import { HostnameClaims, routeHostnameBehind, validHostname } from './hostnames.js';
import { tlsMode } from './listeners.js';
import type { Listener as IRListener, WeightedBackend } from '../ir/types.js';
import { httpRouteEntries } from './httproute.js';
import { ListenerContent, buildIR } from './ir.js';
import { l4RuleBackends, terminateBackends } from './l4routes.js';
import type { RankedEntry } from './precedence.js';
import { newRouteNode, routeInvalid, routeStatus, type RouteNode } from './routes.js';
import type { ObjectStatus, TranslateOptions, TranslateResult } from './types.js';

export type { TranslateOptions, TranslateResult, ObjectStatus } from './types.js';

const L4_USE: Record<string, BackendUse> = { TLSRoute: 'tcp', TCPRoute: 'tcp', UDPRoute: 'udp' };

export function translate(snapshot: Snapshot, options?: TranslateOptions): TranslateResult {
  return translateKeepingState(snapshot, options).result;
}

/**
 * translate(), also handing back what it built on the way (its graph, the listeners' route
 * lists, per route what it added where and what it looked up): translate/splice.ts updates
 * that in place for a change of HTTPRoutes alone instead of translating everything again.
 */
export function translateKeepingState(snapshot: Snapshot, options?: TranslateOptions): { result: TranslateResult; state: TranslateState } {
  const ctx = new Context(snapshot, options);
  const classes = buildGatewayClasses(ctx);
  const { gateways, listenerSets } = buildGateways(ctx, classes);
  const gatewayBase = new Set(ctx.base);
  const gatewaysByKey = new Map<string, GatewayNode>(gateways.map((g) => [`${g.namespace}/${g.name}`, g]));
  const parents: Parents = { gateways: gatewaysByKey, listenerSets: new Map(listenerSets.map((ls) => [`${ls.namespace}/${ls.name}`, ls])) };
  // What the policies look up, apart: a splice that builds the Gateways again keeps the policies (translate/splice-world.ts).
  const policyBase = new Set<string>();
  ctx.recording = policyBase;
  const policies = new BackendTLSPolicies(ctx);
  const clusters = new Clusters(ctx, policies);
  ctx.recording = ctx.base;
  for (const k of policyBase) ctx.base.add(k);
  const content = new ListenerContent();
  const routes: RouteNode[] = [];

  // ---- HTTPRoute + GRPCRoute, together in age order
  const httpish: { kind: 'HTTPRoute' | 'GRPCRoute'; r: Resource }[] = [
    ...snapshot.list<HTTPRoute>(Kind.HTTPRoute).map((r) => ({ kind: 'HTTPRoute' as const, r })),
    ...snapshot.list<GRPCRoute>(Kind.GRPCRoute).map((r) => ({ kind: 'GRPCRoute' as const, r })),
  ];
  // Kind breaks exact ties (same namespace/name in both kinds): HTTPRoute first, stable after sortByAge.
  httpish.sort((a, b) => (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  const ordered = sortByAge(httpish, (x) => x.r);
  // Per listener, the effective hostnames claimed by each kind (GRPCRoute spec: exactly one
  // of two overlapping HTTPRoute/GRPCRoute is accepted, the older).
  const recordAsked = snapshot.list(Kind.GRPCRoute).length > 0;
  const world: RouteWorld = { ctx, parents, clusters, content, claims: new Map(), recordAsked };
  const http = new Map<string, HTTPRouteState>();
  const referenceCounts = new Map<string, number>();
  let routesNamingPort = 0;
  for (const [order, { kind, r }] of ordered.entries()) {
    const key = routeKey(kind, r);
    const done = translateHTTPRoute(world, kind, r, order, key);
    routes.push(done.node);
    http.set(key, done);
    for (const k of done.references) referenceCounts.set(k, (referenceCounts.get(k) ?? 0) + 1);
    if (namesPort(r)) routesNamingPort++;
  }

  // ---- TLSRoute, TCPRoute, UDPRoute
  const l4Base = new Set<string>();
  ctx.recording = l4Base;
  routes.push(...translateL4Routes(snapshot, ctx, parents, clusters, content));
  ctx.recording = ctx.base;
  for (const k of l4Base) ctx.base.add(k);

  // ---- policy ancestors: the Gateways that accepted a route using a targeted Service, for
  // every policy on it (a Conflicted or invalid one too: its status is reported per ancestor like
  // the others'). Counted per (Service, Gateway), so a splice can move one route's pairs.
  const ancestors = policies.all.length > 0 || clusters.traffic.all.length > 0 ? new PolicyAncestors(policies, clusters.traffic, ctx.controllerName) : undefined;
  if (ancestors) {
    for (const node of routes) ancestors.count(node, 1);
    ancestors.assign();
  }

  // ---- statuses
  const statuses: ObjectStatus[] = [];
  for (const gc of classes.values())
    statuses.push({ kind: Kind.GatewayClass, name: gc.resource.metadata.name, generation: generationOf(gc.resource), status: { conditions: gc.conditions } });
  for (const g of gateways)
    statuses.push({ kind: Kind.Gateway, namespace: g.namespace, name: g.name, generation: g.generation, status: gatewayStatus(g) });
  for (const ls of listenerSets)
    statuses.push({ kind: Kind.ListenerSet, namespace: ls.namespace, name: ls.name, generation: ls.generation, status: listenerSetStatus(ls, listenerConditions) });
  for (const node of routes) {
    if (node.parents.length === 0) continue; // no parent of ours: not ours to report on
    statuses.push({
      kind: node.kind,
      namespace: node.namespace,
      name: node.resource.metadata.name,
      generation: node.generation,
      status: routeStatus(node, ctx.controllerName),
    });
  }
  for (const p of policies.all)
    statuses.push({
      kind: Kind.BackendTLSPolicy,
      namespace: nsOf(p.resource),
      name: p.resource.metadata.name,
      generation: p.generation,
      status: policies.status(p, ctx.controllerName),
    });
  for (const p of clusters.traffic.all)
    statuses.push({ kind: p.kind, namespace: nsOf(p.resource), name: p.resource.metadata.name, generation: p.generation, status: clusters.traffic.status(p, ctx.controllerName) });
  statuses.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.namespace ?? '', b.namespace ?? '') || cmp(a.name, b.name));

  const listenerIR = new Map<ListenerNode, IRListener>();
  const result = { ir: buildIR(gateways, content, clusters, listenerIR), statuses, references: [...ctx.references].sort() };
  return { result, state: { ctx, base: ctx.base, gatewayBase, policyBase, l4Base, classes, gateways, listenerSets, parents, policies, ancestors, clusters, content, routes, http, referenceCounts, routesNamingPort, recordAsked, listenerIR } };
}

/**
 * Every TLSRoute, TCPRoute and UDPRoute, oldest first per kind, into `content`: their nodes.
 * translate/splice-l4.ts runs it again, for all of them, when one changes (a TCP or UDP listener
 * serves its oldest route, so one route's result depends on the others').
 */
export function translateL4Routes(snapshot: Snapshot, ctx: Context, parents: Parents, clusters: Clusters, content: ListenerContent): RouteNode[] {
  const routes: RouteNode[] = [];
  for (const kind of ['TLSRoute', 'TCPRoute', 'UDPRoute'] as const) {
    const list = sortByAge(snapshot.list<Resource>(kind), (r) => r);
    for (const [order, r] of list.entries()) {
      const node = newRouteNode(kind, r, nsOf(r), generationOf(r), order);
      routes.push(node);
      safely(node, parents, () => {
        const rules = l4RuleBackends(node, r, clusters, L4_USE[kind]!);
        const hosts = routeHostnames(r);
        node.parents = attachRoute(ctx, parents, {
          kind,
          route: r,
          generation: node.generation,
          hostnames: kind === 'TLSRoute' ? hosts.hostnames : undefined,
          invalid:
            (kind === 'TLSRoute' ? hosts.invalid : undefined) ??
            (rules.length === 0 ? { reason: Reason.UnsupportedValue, message: 'spec.rules must hold at least one rule' } : undefined),
        });
        const source = { kind, namespace: node.namespace, name: r.metadata.name, rule: 0 };
        const served = new Set<ListenerNode>();
        let terminated: WeightedBackend[] | undefined;
        for (const p of node.parents)
          for (const a of p.attachments) {
            if (served.has(a.listener)) continue;
            served.add(a.listener);
            if (kind === 'TLSRoute')
              content.addTLS(a.listener, {
                entry: { source, hostnames: a.hostnames, backends: (tlsMode(a.listener.spec) === 'Terminate' ? (terminated ??= terminateBackends(node, r, clusters)) : undefined) ?? rules[0]! },
                routeOrder: order,
                routeHostname: routeHostnameBehind(a.listener.spec.hostname, hosts.hostnames, a.hostnames[0]!),
              });
            // A TCP or UDP listener carries one route's traffic: routes come oldest first, so the
            // oldest serves. The others stay Accepted and counted in attachedRoutes, as the spec's
            // conflict rule and the suite's TCPRoute/UDPRouteMultipleRoutesAttachment have it.
            else if (!content.l4.has(a.listener)) content.l4.set(a.listener, { source, backends: rules[0]! });
          }
      });
    }
  }

  return routes;
}

/** What one HTTPRoute or GRPCRoute needs from the rest of the translation. */
export interface RouteWorld {
  ctx: Context;
  parents: Parents;
  clusters: Clusters;
  content: ListenerContent;
  claims: Map<ListenerNode, { HTTPRoute: HostnameClaims; GRPCRoute: HostnameClaims }>;
  /** Record HTTPRouteState.asked (see there). */
  recordAsked?: boolean;
}

/** One HTTPRoute's or GRPCRoute's part of a translation: its node, the entries it added to each listener's virtual host, the keys it looked up. */
export interface HTTPRouteState {
  node: RouteNode;
  served: { listener: ListenerNode; hostname: string; added: RankedEntry[] }[];
  /** Keys the route looked up (an array: a Set kept per route cost ~150 bytes more). */
  references: readonly string[];
  /**
   * Every listener the route asked to be admitted on, with its hostnames there (HTTPRoute/GRPCRoute
   * claims: translate/splice.ts). Kept only while GRPCRoutes exist (RouteWorld.recordAsked): with one
   * kind alone no claim can cross.
   */
  asked?: { listener: ListenerNode; hosts: string[] }[];
}

export interface TranslateState {
  /** The Context routes are translated with (Services, grants, namespaces: unchanged while the state is kept). */
  ctx: Context;
  /** Keys looked up outside HTTPRoutes and GRPCRoutes (Context.base of the translation that built the Gateways). */
  base: Set<string>;
  /** The parts of `base`: what building the GatewayClasses and Gateways looked up, what the policies (BackendTLSPolicy, XBackendTrafficPolicy, BackendLBPolicy) did, what TLSRoutes, TCPRoutes and UDPRoutes did. */
  gatewayBase: ReadonlySet<string>;
  policyBase: ReadonlySet<string>;
  l4Base: ReadonlySet<string>;
  classes: Map<string, GatewayClassNode>;
  gateways: GatewayNode[];
  listenerSets: ListenerSetNode[];
  parents: Parents;
  policies: BackendTLSPolicies;
  /** Policy ancestors counted per (Service, Gateway); undefined when there is no policy. */
  ancestors?: PolicyAncestors;
  clusters: Clusters;
  content: ListenerContent;
  /** Every route node: HTTPRoutes and GRPCRoutes in age order, then the others. */
  routes: RouteNode[];
  /** Whether HTTPRouteState.asked is kept (GRPCRoutes existed when translate() built this state). */
  recordAsked: boolean;
  /** HTTPRoutes and GRPCRoutes by routeKey(). */
  http: Map<string, HTTPRouteState>;
  /**
   * How many of `http` looked up each key (spliceHTTPRoutes keeps it). Counted while they are
   * translated: counted later, the first route change after start-up paid a walk of 10,000 routes.
   */
  referenceCounts: Map<string, number>;
  /** How many of `http` have a parentRef naming a port (then a Gateway change must check the listeners' ports). Kept the same way. */
  routesNamingPort: number;
  /** The IR listener built for each programmed listener (before per-Gateway client certificates). */
  listenerIR: Map<ListenerNode, IRListener>;
}

/**
 * One HTTPRoute or GRPCRoute: entries, attachment, and its entries into each listener's virtual
 * hosts. `key`: routeKey(kind, r), the one string the state keeps for the route (attachment's too).
 */
export function translateHTTPRoute(w: RouteWorld, kind: 'HTTPRoute' | 'GRPCRoute', r: Resource, order: number, key: string): HTTPRouteState {
  const { ctx, parents, clusters, content, claims } = w;
  const node = newRouteNode(kind, r, nsOf(r), generationOf(r), order);
  const done: HTTPRouteState = { node, served: [], references: [] };
  const outer = ctx.recording;
  const references = new Set<string>();
  ctx.recording = references;
  try {
    safely(node, parents, () => {
      const entries: RankedEntry[] =
        kind === 'HTTPRoute' ? httpRouteEntries(node, r as HTTPRoute, clusters) : grpcRouteEntries(node, r as GRPCRoute, clusters);
      const hosts = routeHostnames(r);
      const id = `${node.namespace}/${r.metadata.name}`;
      const input: AttachInput = {
        kind,
        route: r,
        key,
        generation: node.generation,
        hostnames: hosts.hostnames,
        invalid: hosts.invalid ?? routeInvalid(node),
        admit: (l, hosts) => {
          if (w.recordAsked) (done.asked ??= []).push({ listener: l, hosts });
          let c = claims.get(l);
          if (!c) claims.set(l, (c = { HTTPRoute: new HostnameClaims(), GRPCRoute: new HostnameClaims() }));
          const other = kind === 'HTTPRoute' ? 'GRPCRoute' : 'HTTPRoute';
          for (const h of hosts) {
            const owner = c[other].overlap(h);
            if (owner !== undefined) return `${other} ${owner} already serves overlapping hostnames on listener ${l.id} and is older`;
          }
          for (const h of hosts) c[kind].add(h, id);
          return undefined;
        },
      };
      node.parents = attachRoute(ctx, parents, input);
      // Two parentRefs may select the same listener (whole Gateway and one sectionName): serve once.
      const served = new Set<string>();
      const copies = new Map<string | undefined, RankedEntry[]>();
      for (const p of node.parents)
        for (const a of p.attachments)
          for (const h of a.hostnames) {
            const k = `${a.listener.id}\n${h}`;
            if (served.has(k)) continue;
            served.add(k);
            const added = content.addHTTP(a.listener, h, entries, routeHostnameBehind(a.listener.spec.hostname, hosts.hostnames, h), copies);
            done.served.push({ listener: a.listener, hostname: h, added });
          }
      done.served = exact(done.served);
    });
  } finally {
    ctx.recording = outer;
  }
  done.references = [...references];
  return done;
}

/** spec.hostnames, each checked against the Hostname pattern; one bad entry makes the route unacceptable (the CRD would refuse it). */
function routeHostnames(r: Resource): { hostnames: string[]; invalid?: { reason: string; message: string } } {
  const raw = (r.spec as { hostnames?: unknown } | undefined)?.hostnames;
  const list = Array.isArray(raw) ? raw : [];
  const bad = list.findIndex((h) => !validHostname(h));
  if (bad >= 0)
    return {
      hostnames: [],
      invalid: { reason: Reason.UnsupportedValue, message: `spec.hostnames[${bad}] ${JSON.stringify(list[bad])} is not a valid hostname` },
    };
  return { hostnames: list as string[] };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A malformed object the schema check let through must not take the whole translation
 * down: that one route serves nothing and says why on each of its parents that is ours.
 */
function safely(node: RouteNode, parents: Parents, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    const message = `route could not be translated: ${(err as Error)?.message ?? String(err)}`;
    node.invalidRules = [];
    node.refProblems = [];
    node.parents = [];
    for (const p of arr<ParentReference>((node.resource.spec as { parentRefs?: unknown } | undefined)?.parentRefs)) {
      if (typeof p.name !== 'string') continue;
      const key = `${typeof p.namespace === 'string' ? p.namespace : node.namespace}/${p.name}`;
      const gw = p.kind === Kind.ListenerSet ? parents.listenerSets.get(key)?.gateway : parents.gateways.get(key);
      if (gw) node.parents.push({ parentRef: p, gateway: gw, accepted: condition(Type.Accepted, false, Reason.UnsupportedValue, message, node.generation), attachments: [] });
    }
  }
}
