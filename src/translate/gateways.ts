// Gateways of accepted-or-not Portico GatewayClasses: addresses, listeners, and the
// Gateway's own Accepted/Programmed conditions. Status is rendered after routes attach,
// because listener status carries attachedRoutes.

import { isIP } from 'node:net';
import type { Condition, Gateway, GatewayAddress, GatewaySpec, Listener, ListenerStatus } from '../api/types.js';
import { arr, obj } from './util.js';
import { Kind } from '../api/names.js';
import { Reason, Type, condition } from './conditions.js';
import { compareAge, generationOf, nsOf, type Context } from './context.js';
import { markConflictsAcrossGateways, markConflictsWithinGateway } from './conflicts.js';
import { markPortsUnavailable } from './ports-unavailable.js';
import { markOverlappingTLS } from './overlapping-tls.js';
import { allListeners, type GatewayClassNode, type GatewayNode, type ListenerNode, type ListenerSetNode } from './graph.js';
import { attachedListenerSets, buildListenerSets, decideListenerSets } from './listenersets.js';
import { brokenListener, buildListener } from './listeners.js';
import { gatewayResolvedRefs, resolveBackendClientCertificate } from './backendtls-client.js';
import { insecureFallbackRequested } from './frontendtls.js';

export function buildGateways(ctx: Context, classes: Map<string, GatewayClassNode>): { gateways: GatewayNode[]; listenerSets: ListenerSetNode[] } {
  const out: GatewayNode[] = [];
  const resources = [...ctx.snapshot.list<Gateway>(Kind.Gateway)].sort(compareAge);
  for (const gw of resources) {
    const gc = classes.get(gw.spec?.gatewayClassName ?? '');
    if (!gc) continue; // not ours (or no such class): not ours to report on
    const ns = nsOf(gw);
    const node: GatewayNode = {
      resource: gw,
      namespace: ns,
      name: gw.metadata.name,
      generation: generationOf(gw),
      gatewayClass: gc,
      addresses: [],
      listeners: [],
      listenerSets: [],
    };
    const addrProblem = resolveAddresses(ctx, node);
    resolveBackendClientCertificate(ctx, node);
    node.insecureFrontend = insecureFallbackRequested(gw);
    const listeners = arr<Listener>(gw.spec?.listeners);
    const seen = new Set<string>();
    for (const l of listeners) {
      if (typeof l.name !== 'string' || seen.has(l.name)) continue; // names are unique (CRD listMapKey)
      seen.add(l.name);
      try {
        node.listeners.push(buildListener(ctx, node, l));
      } catch (err) {
        node.listeners.push(brokenListener(node, l, err));
      }
    }
    markConflictsWithinGateway(node);
    decideGateway(ctx, node, addrProblem);
    out.push(node);
  }
  // ListenerSets join after every Gateway's own listeners are decided: theirs come first.
  const listenerSets = buildListenerSets(ctx, new Map(out.map((g) => [`${g.namespace}/${g.name}`, g])));
  // Over the Gateway's merged listener list (its own, then its ListenerSets'), as GEP-1713 asks.
  for (const g of out) markOverlappingTLS(g);
  // Gateways with their own data planes share no sockets: nothing to conflict across them,
  // except within a GatewayClass whose Gateways share one merged data plane.
  if (!ctx.perGateway) markConflictsAcrossGateways(out.filter((g) => g.accepted?.ok));
  else
    for (const cls of ctx.mergedGatewayClasses)
      markConflictsAcrossGateways(out.filter((g) => g.accepted?.ok && g.gatewayClass.resource.metadata.name === cls));
  markPortsUnavailable(ctx, out);
  for (const g of out) finishProgrammed(g);
  decideListenerSets(listenerSets, listenerValid);
  return { gateways: out, listenerSets };
}

type AddressProblem = { accepted: boolean; reason: string; message: string } | undefined;

function resolveAddresses(ctx: Context, node: GatewayNode): AddressProblem {
  const requested = arr<GatewayAddress>(node.resource.spec?.addresses);
  if (requested.length === 0) {
    node.addresses = [ctx.defaultAddress(node.namespace, node.name)];
    return undefined;
  }
  const ips: string[] = [];
  for (const [i, a] of requested.entries()) {
    const type = a.type ?? 'IPAddress';
    if (type !== 'IPAddress') {
      return {
        accepted: false,
        reason: Reason.UnsupportedAddress,
        message: `spec.addresses[${i}] type ${type} is not supported; Portico binds IPAddress values only`,
      };
    }
    if (a.value === undefined || a.value === '') {
      // An IPAddress without a value asks the implementation to pick one: the default address.
      const picked = ctx.defaultAddress(node.namespace, node.name);
      if (!ips.includes(picked)) ips.push(picked);
      continue;
    }
    if (typeof a.value !== 'string' || !isIP(a.value)) {
      return {
        accepted: true,
        reason: Reason.AddressNotUsable,
        message: `spec.addresses[${i}] value ${JSON.stringify(a.value)} is not an IP address`,
      };
    }
    if (!ips.includes(a.value)) ips.push(a.value);
  }
  // Own data plane: its pods listen on 0.0.0.0; the addresses go onto its Service (src/provision),
  // and whether they could be assigned is the controller's to report.
  if (ctx.perGateway) {
    node.addresses = ['0.0.0.0'];
    return undefined;
  }
  // Addresses the machine cannot bind (options.addressUsable) are left out of the bind list
  // and of status.addresses, and keep the Gateway from being Programmed.
  const unusable = ips.filter((ip) => !ctx.addressUsable(ip));
  node.addresses = ips.filter((ip) => !unusable.includes(ip));
  if (unusable.length > 0)
    return {
      accepted: true,
      reason: Reason.AddressNotUsable,
      message: `spec.addresses ${unusable.join(', ')} cannot be used on this data plane; use an address it owns`,
    };
  return undefined;
}

function decideGateway(ctx: Context, node: GatewayNode, addr: AddressProblem): void {
  decideGatewayLevel(ctx, node, addr);
  if (node.accepted && !node.accepted.ok) node.rejected = node.accepted.message;
}

function decideGatewayLevel(ctx: Context, node: GatewayNode, addr: AddressProblem): void {
  const gc = node.gatewayClass;
  if (!gc.accepted) {
    node.accepted = { ok: false, reason: Reason.Invalid, message: `GatewayClass ${gc.resource.metadata.name} is not accepted` };
    return;
  }
  // With its own data plane, src/provision resolves parametersRef (GatewayParameters) and reports on it.
  if (!ctx.perGateway && obj<NonNullable<GatewaySpec['infrastructure']>>(node.resource.spec?.infrastructure).parametersRef) {
    node.accepted = {
      ok: false,
      reason: Reason.InvalidParameters,
      message: 'spec.infrastructure.parametersRef is not supported by Portico; remove it',
    };
    return;
  }
  if (addr && !addr.accepted) {
    node.accepted = { ok: false, reason: addr.reason, message: addr.message };
    return;
  }
  if (addr) {
    node.accepted = { ok: true, reason: Reason.Accepted, message: 'Gateway is accepted' };
    node.programmed = { ok: false, reason: addr.reason, message: addr.message };
    return;
  }
  node.accepted = { ok: true, reason: Reason.Accepted, message: 'Gateway is accepted' };
}

function listenerValid(l: ListenerNode): boolean {
  return l.accepted && !l.conflicted && !(l.unresolved && l.unresolved.reason !== Reason.InvalidRouteKinds) && l.supportedKinds.length > 0;
}

function finishProgrammed(node: GatewayNode): void {
  const gwOk = node.accepted!.ok && !node.programmed;
  for (const l of allListeners(node)) l.programmed = gwOk && listenerValid(l);
  // The Gateway is not accepted only when no listener is usable at all (each one rejected or
  // conflicted); listeners that are accepted but cannot be programmed (bad certificate
  // references, no route kinds) leave it Accepted with reason ListenersNotValid.
  const invalid = node.listeners.filter((l) => !listenerValid(l));
  if (node.accepted!.ok && node.listeners.length > 0 && invalid.length > 0) {
    const names = invalid.map((l) => l.spec.name).join(', ');
    node.accepted = node.listeners.every((l) => !l.accepted || l.conflicted)
      ? { ok: false, reason: Reason.ListenersNotValid, message: `no usable listeners (not valid: ${names})` }
      : { ok: true, reason: Reason.ListenersNotValid, message: `some listeners are not valid: ${names}` };
  }
  if (!node.programmed) {
    const anyProgrammed = node.listeners.some((l) => l.programmed);
    node.programmed = anyProgrammed
      ? { ok: true, reason: Reason.Programmed, message: 'Gateway is programmed' }
      : { ok: false, reason: Reason.Invalid, message: node.accepted!.ok ? 'no listener is programmed' : 'Gateway is not accepted' };
  }
  if (!node.accepted!.ok) for (const l of allListeners(node)) l.programmed = false;
}

export function listenerConditions(l: ListenerNode): Condition[] {
  const gen = l.listenerSet?.generation ?? l.gateway.generation;
  const out: Condition[] = [];
  // A conflicted listener is not accepted either: its port is not configured (the v1.6
  // conformance suite expects Accepted False with the conflict's reason).
  out.push(
    l.rejected
      ? condition(Type.Accepted, false, l.rejected.reason, l.rejected.message, gen)
      : l.conflicted
        ? condition(Type.Accepted, false, l.conflicted.reason, l.conflicted.message, gen)
        : condition(Type.Accepted, true, Reason.Accepted, 'Listener is accepted', gen),
  );
  let why = 'Listener is programmed';
  if (!l.programmed) {
    why = l.rejected
      ? 'Listener is not accepted'
      : l.conflicted
        ? 'Listener is conflicted'
        : l.unresolved && l.unresolved.reason !== Reason.InvalidRouteKinds
          ? 'Listener references could not be resolved'
          : l.supportedKinds.length === 0
            ? 'Listener supports no route kinds'
            : `Gateway is not ${l.gateway.accepted?.ok ? 'programmed' : 'accepted'}`;
  }
  // A ListenerSet's conflicted listener says why in Programmed too (as the ListenerSet conformance tests expect).
  const notProgrammed = l.listenerSet && l.conflicted ? l.conflicted.reason : Reason.Invalid;
  out.push(condition(Type.Programmed, l.programmed, l.programmed ? Reason.Programmed : notProgrammed, why, gen));
  out.push(
    l.unresolved
      ? condition(Type.ResolvedRefs, false, l.unresolved.reason, l.unresolved.message, gen)
      : condition(Type.ResolvedRefs, true, Reason.ResolvedRefs, 'All references are resolved', gen),
  );
  out.push(
    l.conflicted
      ? condition(Type.Conflicted, true, l.conflicted.reason, l.conflicted.message, gen)
      : condition(Type.Conflicted, false, Reason.NoConflicts, 'No conflicts', gen),
  );
  if (l.overlappingTLS) {
    const names = l.overlappingTLS.join(', ');
    out.push(condition(Type.OverlappingTLSConfig, true, Reason.OverlappingHostnames, `hostnames overlap with HTTPS listener(s) ${names} on port ${l.spec.port}; HTTP/2 clients may reuse one connection for both`, gen));
  }
  return out;
}

export function gatewayStatus(node: GatewayNode): Record<string, unknown> {
  const gen = node.generation;
  const a = node.accepted!;
  const p = node.programmed!;
  const listeners: ListenerStatus[] = node.listeners.map((l) => ({
    name: l.spec.name,
    supportedKinds: l.supportedKinds,
    attachedRoutes: l.attached.size,
    conditions: listenerConditions(l),
  }));
  const conditions = [condition(Type.Accepted, a.ok, a.reason, a.message, gen), condition(Type.Programmed, p.ok, p.reason, p.message, gen)];
  const rr = gatewayResolvedRefs(node);
  if (rr) conditions.push(condition(Type.ResolvedRefs, rr.ok, rr.reason, rr.message, gen));
  // Present only while some validation is AllowInsecureFallback (the spec removes it otherwise).
  if (node.insecureFrontend)
    conditions.push(
      condition(Type.InsecureFrontendValidationMode, true, Reason.ConfigurationChanged, 'spec.tls.frontend allows clients without a valid certificate (AllowInsecureFallback)', gen),
    );
  const status: Record<string, unknown> = {
    addresses: node.addresses.map((value) => ({ type: 'IPAddress', value })),
    conditions,
    listeners,
  };
  // Present once the Gateway allows ListenerSets at all (or some attached): 0 is an answer then.
  const from = (node.resource.spec?.allowedListeners?.namespaces?.from as string | undefined) ?? 'None';
  const attached = attachedListenerSets(node);
  if (from !== 'None' || attached > 0) status.attachedListenerSets = attached;
  return status;
}
