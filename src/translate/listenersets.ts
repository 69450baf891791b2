// ListenerSets (GEP-1713, Standard channel since v1.5): more listeners for a Gateway that
// allows them through spec.allowedListeners. Decided here:
// - which ListenerSets a Gateway accepts (allowedListeners.namespaces from None/Same/All/Selector,
//   the parent Gateway accepted);
// - their listeners, built like the Gateway's own (listeners.ts) but referencing from the
//   ListenerSet's namespace;
// - conflicts in the spec's precedence order: the Gateway's own listeners first, then
//   ListenerSets by creation time, then "{namespace}/{name}"; a listener that clashes with one
//   earlier in that order is Conflicted and not accepted, the earlier one keeps serving;
// - ListenerSet status (Accepted/Programmed with the spec's reasons, per-listener status) and the
//   Gateway's status.attachedListenerSets.

import type { AllowedListeners, Listener, ListenerSet, ListenerSetSpec } from '../api/types.js';
import { GATEWAY_GROUP, Kind } from '../api/names.js';
import { Reason, Type, condition } from './conditions.js';
import { compareAge, generationOf, matchesSelector, nsOf, type Context } from './context.js';
import { conflictBetween } from './conflicts.js';
import type { GatewayNode, ListenerNode, ListenerSetNode } from './graph.js';
import { brokenListener, buildListener, listenerId } from './listeners.js';
import { arr, obj } from './util.js';

/**
 * Build every ListenerSet whose parentRef names one of `gateways` (accepted or not), attach the
 * allowed ones to their Gateway, and mark their listeners' conflicts. Call after the Gateways'
 * own listeners and conflicts are decided. Returns all of them (status is reported for each).
 */
export function buildListenerSets(ctx: Context, gateways: ReadonlyMap<string, GatewayNode>): ListenerSetNode[] {
  const out: ListenerSetNode[] = [];
  for (const ls of [...ctx.snapshot.list<ListenerSet>(Kind.ListenerSet)].sort(compareAge)) {
    const ref = obj<ListenerSetSpec['parentRef']>(ls.spec?.parentRef);
    if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? Kind.Gateway) !== Kind.Gateway || typeof ref.name !== 'string') continue;
    const ns = nsOf(ls);
    const gw = gateways.get(`${ref.namespace ?? ns}/${ref.name}`);
    if (!gw) continue; // not a Gateway of ours: not ours to report on
    const node: ListenerSetNode = { resource: ls, namespace: ns, name: ls.metadata.name, generation: generationOf(ls), gateway: gw, listeners: [] };
    out.push(node);
    if (!gw.accepted?.ok) {
      node.accepted = { ok: false, reason: Reason.ParentNotAccepted, message: `Gateway ${gw.namespace}/${gw.name} is not accepted` };
      continue;
    }
    const denied = notAllowed(ctx, gw, ns);
    if (denied) {
      node.accepted = { ok: false, reason: Reason.NotAllowed, message: denied };
      continue;
    }
    const seen = new Set<string>();
    for (const l of arr<Listener>(ls.spec?.listeners)) {
      if (typeof l.name !== 'string' || seen.has(l.name)) continue; // names are unique in a ListenerSet (CRD listMapKey)
      seen.add(l.name);
      try {
        node.listeners.push(buildListener(ctx, gw, l, node));
      } catch (err) {
        node.listeners.push(brokenListener(gw, l, err, node));
      }
    }
    markConflicts(gw, node);
    gw.listenerSets.push(node);
  }
  return out;
}

/** Why the Gateway's spec.allowedListeners refuses ListenerSets from `namespace` (undefined: allowed). */
function notAllowed(ctx: Context, gw: GatewayNode, namespace: string): string | undefined {
  const ns = obj<NonNullable<AllowedListeners['namespaces']>>(obj<AllowedListeners>(gw.resource.spec?.allowedListeners).namespaces);
  const from = ns.from ?? 'None';
  const who = `Gateway ${gw.namespace}/${gw.name}`;
  switch (from) {
    case 'All':
      return undefined;
    case 'Same':
      return namespace === gw.namespace ? undefined : `${who} allows ListenerSets from its own namespace only (spec.allowedListeners.namespaces.from Same)`;
    case 'Selector':
      // A Selector without a selector selects nothing (as allowedRoutes does).
      if (ns.selector && typeof ns.selector === 'object' && matchesSelector(ns.selector, ctx.namespaceLabels(namespace))) return undefined;
      return `${who} does not select namespace ${namespace} (spec.allowedListeners.namespaces.selector)`;
    case 'None':
      return `${who} does not allow ListenerSets (spec.allowedListeners.namespaces.from is None, the default)`;
    default:
      return `${who} has an unknown spec.allowedListeners.namespaces.from ${JSON.stringify(from)}`;
  }
}

/**
 * The ListenerSet's listeners against every listener before them in precedence order: the
 * Gateway's own (conflicted ones too: the Gateway's author meant that port), then earlier
 * ListenerSets' and earlier entries of this one that are not conflicted themselves.
 */
function markConflicts(gw: GatewayNode, ls: ListenerSetNode): void {
  const before: ListenerNode[] = gw.listeners.filter((l) => l.accepted);
  for (const earlier of gw.listenerSets) for (const l of earlier.listeners) if (l.accepted && !l.conflicted) before.push(l);
  for (const l of ls.listeners) {
    if (!l.accepted) continue;
    for (const o of before) {
      const c = conflictBetween(l, o);
      if (!c) continue;
      l.conflicted = { reason: c, message: `${describe(o)} comes first and uses port ${o.spec.port} ${c === Reason.ProtocolConflict ? `with protocol ${o.spec.protocol}` : `for ${o.spec.hostname ? `hostname ${o.spec.hostname}` : 'an empty hostname'}`}` };
      break;
    }
    if (!l.conflicted) before.push(l);
  }
}

function describe(l: ListenerNode): string {
  return l.listenerSet
    ? `listener ${l.spec.name} of ListenerSet ${l.listenerSet.namespace}/${l.listenerSet.name}`
    : `listener ${l.spec.name} of Gateway ${l.gateway.namespace}/${l.gateway.name}`;
}

/**
 * Accepted/Programmed of each ListenerSet, once its listeners' programmed state is known
 * (gateways.ts finishProgrammed). `valid` is the Gateway listeners' own validity rule.
 */
export function decideListenerSets(sets: readonly ListenerSetNode[], valid: (l: ListenerNode) => boolean): void {
  for (const ls of sets) {
    const gw = ls.gateway;
    if (ls.accepted) {
      // Rejected before its listeners were built: ParentNotAccepted or NotAllowed, the same for Programmed.
      ls.programmed = { ok: false, reason: ls.accepted.reason, message: ls.accepted.message };
      continue;
    }
    const invalid = ls.listeners.filter((l) => !valid(l));
    const names = invalid.map((l) => l.spec.name).join(', ');
    if (ls.listeners.length === 0 || invalid.length === ls.listeners.length) {
      const message = `no valid listeners (not valid: ${names || 'none listed'})`;
      ls.accepted = { ok: false, reason: Reason.ListenersNotValid, message };
      ls.programmed = { ok: false, reason: Reason.ListenersNotValid, message };
      for (const l of ls.listeners) l.programmed = false;
      continue;
    }
    ls.accepted =
      invalid.length > 0
        ? { ok: true, reason: Reason.ListenersNotValid, message: `some listeners are not valid: ${names}` }
        : { ok: true, reason: Reason.Accepted, message: 'ListenerSet is accepted' };
    ls.programmed = gw.programmed?.ok
      ? { ok: true, reason: Reason.Programmed, message: 'ListenerSet is programmed' }
      : { ok: false, reason: Reason.ParentNotProgrammed, message: `Gateway ${gw.namespace}/${gw.name} is not programmed` };
  }
}

/** status.attachedListenerSets: ListenerSets the Gateway allows and that are Accepted. */
export function attachedListenerSets(gw: GatewayNode): number {
  return gw.listenerSets.filter((ls) => ls.accepted?.ok).length;
}

export function listenerSetStatus(ls: ListenerSetNode, listenerConditions: (l: ListenerNode) => ReturnType<typeof condition>[]): Record<string, unknown> {
  const gen = ls.generation;
  const a = ls.accepted!;
  const p = ls.programmed!;
  const status: Record<string, unknown> = {
    conditions: [condition(Type.Accepted, a.ok, a.reason, a.message, gen), condition(Type.Programmed, p.ok, p.reason, p.message, gen)],
  };
  if (ls.listeners.length > 0)
    status.listeners = ls.listeners.map((l) => ({
      name: l.spec.name,
      supportedKinds: l.supportedKinds,
      attachedRoutes: l.attached.size,
      conditions: listenerConditions(l),
    }));
  return status;
}
