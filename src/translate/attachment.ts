// Route -> parent attachment: parentRef selection by name, sectionName and port;
// allowedRoutes (namespaces From Same/All/Selector, kinds); hostname intersection; and the
// route's Accepted condition per parentRef.

import type { AllowedRoutes, Condition, ParentReference, Resource } from '../api/types.js';
import { arr, exact, obj } from './util.js';
import { GATEWAY_GROUP, Kind } from '../api/names.js';
import { Reason, Type, condition } from './conditions.js';
import { matchesSelector, nsOf, type Context } from './context.js';
import type { GatewayNode, ListenerNode, ListenerSetNode } from './graph.js';
import { intersectHostnames } from './hostnames.js';
import { keyOf } from '../store/snapshot.js';

export interface Attachment {
  listener: ListenerNode;
  /** Effective hostnames on this listener ('*' = any); for kinds without hostnames, ['*']. */
  hostnames: string[];
}

export interface ParentResult {
  parentRef: ParentReference;
  /** The Gateway the parentRef reaches (a ListenerSet's parent for parentRef kind ListenerSet). */
  gateway: GatewayNode;
  accepted: Condition;
  attachments: Attachment[];
}

export interface AttachInput {
  kind: string;
  route: Resource;
  /** routeKey(kind, route), when the caller has it. */
  key?: string;
  generation: number;
  /** undefined for kinds without hostnames (TCPRoute, UDPRoute). */
  hostnames?: readonly string[];
  /** Set when every rule of the route is invalid: the route cannot be Accepted anywhere. */
  invalid?: { reason: string; message: string };
  /**
   * Per-listener admission after allowedRoutes and hostnames pass; returns a message when
   * another route already holds the listener. Called only for routes that will attach.
   */
  admit?: (listener: ListenerNode, hostnames: string[]) => string | undefined;
}

/** What parentRefs can name: Gateways, and ListenerSets (by `namespace/name`). */
export interface Parents {
  gateways: ReadonlyMap<string, GatewayNode>;
  listenerSets: ReadonlyMap<string, ListenerSetNode>;
}

/** The route's store key (routes are namespaced): the translation state keeps one per route. */
export function routeKey(kind: string, r: Resource): string {
  return keyOf(kind, nsOf(r), r.metadata.name);
}

/** Whether a parentRef of the route names a port (then a listener's port is part of what attachment reads). */
export const namesPort = (r: Resource): boolean => arr<ParentReference>((r.spec as { parentRefs?: unknown } | undefined)?.parentRefs).some((p) => p.port !== undefined);

export function namespaceAllowed(ctx: Context, l: ListenerNode, routeNamespace: string): boolean {
  const namespaces = obj<NonNullable<AllowedRoutes['namespaces']>>(obj<AllowedRoutes>(l.spec.allowedRoutes).namespaces);
  const from = namespaces.from ?? 'Same';
  switch (from) {
    case 'All':
      return true;
    case 'Same':
      // A ListenerSet's listener: the ListenerSet's namespace, not its parent Gateway's.
      return routeNamespace === (l.listenerSet?.namespace ?? l.gateway.namespace);
    case 'Selector': {
      const sel = namespaces.selector;
      // A Selector with no selector is rejected by the CRD; select nothing rather than everything.
      if (!sel || typeof sel !== 'object') return false;
      return matchesSelector(sel, ctx.namespaceLabels(routeNamespace));
    }
    default:
      return false;
  }
}

function describeRef(p: ParentReference): string {
  const parts = [];
  if (p.sectionName !== undefined) parts.push(`sectionName ${p.sectionName}`);
  if (p.port !== undefined) parts.push(`port ${p.port}`);
  return parts.length ? ` with ${parts.join(' and ')}` : '';
}

/**
 * Resolve every parentRef of a route against our Gateways. parentRefs to other kinds, to
 * Gateways that do not exist or belong to another controller get no entry: the spec leaves
 * their status to whoever owns them.
 */
export function attachRoute(ctx: Context, parents: Parents, input: AttachInput): ParentResult[] {
  const { route, kind, generation: gen } = input;
  const routeNs = nsOf(route);
  const key = input.key ?? routeKey(kind, route);
  const out: ParentResult[] = [];
  const refs = arr<ParentReference>((route.spec as { parentRefs?: unknown } | undefined)?.parentRefs);
  for (const p of refs) {
    if (typeof p.name !== 'string') continue;
    if ((p.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP) continue;
    const parentKind = p.kind ?? Kind.Gateway;
    if (parentKind !== Kind.Gateway && parentKind !== Kind.ListenerSet) continue;
    const parentKey = `${p.namespace ?? routeNs}/${p.name}`;
    const ls = parentKind === Kind.ListenerSet ? parents.listenerSets.get(parentKey) : undefined;
    const gw = parentKind === Kind.ListenerSet ? ls?.gateway : parents.gateways.get(parentKey);
    if (!gw) continue;
    const fail = (reason: string, message: string): void => {
      out.push({ parentRef: p, gateway: gw, accepted: condition(Type.Accepted, false, reason, message, gen), attachments: [] });
    };
    if (gw.rejected) {
      fail(Reason.NoMatchingParent, `Gateway ${gw.namespace}/${gw.name} is not accepted: ${gw.rejected}`);
      continue;
    }
    // A Gateway parentRef selects the Gateway's own listeners only; a ListenerSet's are reached through the ListenerSet.
    const parentName = ls ? `ListenerSet ${ls.namespace}/${ls.name}` : `Gateway ${gw.namespace}/${gw.name}`;
    if (ls && !gw.listenerSets.includes(ls)) {
      fail(Reason.NoMatchingParent, `${parentName} is not attached to Gateway ${gw.namespace}/${gw.name}: ${ls.accepted?.message ?? 'not accepted'}`);
      continue;
    }
    const selected = (ls ? ls.listeners : gw.listeners).filter(
      (l) => (p.sectionName === undefined || l.spec.name === p.sectionName) && (p.port === undefined || l.spec.port === p.port),
    );
    if (selected.length === 0) {
      fail(Reason.NoMatchingParent, `${parentName} has no listener${describeRef(p)}`);
      continue;
    }
    const allowed = selected.filter(
      (l) => l.supportedKinds.some((k) => k.kind === kind) && namespaceAllowed(ctx, l, routeNs),
    );
    if (allowed.length === 0) {
      const kindOk = selected.some((l) => l.supportedKinds.some((k) => k.kind === kind));
      fail(
        Reason.NotAllowedByListeners,
        kindOk
          ? `no listener${describeRef(p)} of ${parentName} allows routes from namespace ${routeNs}`
          : `no listener${describeRef(p)} of ${parentName} allows kind ${kind}`,
      );
      continue;
    }
    const withHosts: Attachment[] = [];
    for (const l of allowed) {
      const hostnames = input.hostnames === undefined ? ['*'] : intersectHostnames(l.spec.hostname, input.hostnames);
      if (hostnames.length > 0) withHosts.push({ listener: l, hostnames });
    }
    if (withHosts.length === 0) {
      fail(
        Reason.NoMatchingListenerHostname,
        `route hostnames ${JSON.stringify(input.hostnames)} match no listener hostname (${allowed.map((l) => l.spec.hostname ?? '<any>').join(', ')})`,
      );
      continue;
    }
    if (input.invalid) {
      fail(input.invalid.reason, input.invalid.message);
      continue;
    }
    const admitted: Attachment[] = [];
    const refused: string[] = [];
    for (const a of withHosts) {
      const why = input.admit?.(a.listener, a.hostnames);
      if (why) refused.push(why);
      else admitted.push(a);
    }
    if (admitted.length === 0) {
      fail(Reason.Conflicted, refused.join('; '));
      continue;
    }
    for (const a of admitted) a.listener.attached.add(key);
    out.push({
      parentRef: p,
      gateway: gw,
      accepted: condition(Type.Accepted, true, Reason.Accepted, 'Route is accepted', gen),
      attachments: exact(admitted),
    });
  }
  return exact(out);
}
