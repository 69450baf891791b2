// One listener on its own: protocol, TLS certificate references, allowedRoutes.kinds.
// Conflicts between listeners are decided in conflicts.ts, which needs them all.

import type { AllowedRoutes, GatewayTLSConfig, Listener, RouteGroupKind, Secret, SecretObjectReference } from '../api/types.js';
import { arr, obj } from './util.js';
import { CORE_GROUP, GATEWAY_GROUP, Kind } from '../api/names.js';
import { certificateFromSecret } from './certificates.js';
import { resolveClientValidation } from './frontendtls.js';
import { validHostname } from './hostnames.js';
import { Reason } from './conditions.js';
import type { Context } from './context.js';
import type { GatewayNode, ListenerNode, ListenerSetNode } from './graph.js';

export const SUPPORTED_PROTOCOLS = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'] as const;

/** Route kinds each protocol can carry (the spec's "Listener protocol" defaults for supportedKinds). */
const KINDS_BY_PROTOCOL: Record<string, string[]> = {
  HTTP: [Kind.HTTPRoute, Kind.GRPCRoute],
  HTTPS: [Kind.HTTPRoute, Kind.GRPCRoute],
  TLS: [Kind.TLSRoute],
  TCP: [Kind.TCPRoute],
  UDP: [Kind.UDPRoute],
};

export function tlsMode(l: Listener): 'Terminate' | 'Passthrough' {
  return obj<GatewayTLSConfig>(l.tls).mode === 'Passthrough' ? 'Passthrough' : 'Terminate';
}

/** The object a listener is written in: its namespace defaults references and is the "from" side of ReferenceGrants. */
export function listenerOwner(l: ListenerNode): { kind: string; namespace: string; name: string } {
  return l.listenerSet
    ? { kind: Kind.ListenerSet, namespace: l.listenerSet.namespace, name: l.listenerSet.name }
    : { kind: Kind.Gateway, namespace: l.gateway.namespace, name: l.gateway.name };
}

/** IR name of a listener; a ListenerSet's keeps the `${ns}/${gateway}/` prefix (dots cannot occur in a namespace or a listener name). */
export function listenerId(gw: GatewayNode, spec: Listener, ls?: ListenerSetNode): string {
  const base = `${gw.namespace}/${gw.name}/`;
  return ls ? `${base}${ls.namespace}.${ls.name}.${spec.name}` : `${base}${spec.name}`;
}

/** A listener whose fields are too malformed to evaluate: reported, never served. */
export function brokenListener(gw: GatewayNode, spec: Listener, err: unknown, ls?: ListenerSetNode): ListenerNode {
  return {
    gateway: gw,
    ...(ls ? { listenerSet: ls } : {}),
    spec,
    id: listenerId(gw, spec, ls),
    supportedKinds: [],
    accepted: false,
    rejected: { reason: Reason.UnsupportedValue, message: `listener could not be evaluated: ${(err as Error).message}` },
    certificates: [],
    addresses: gw.addresses,
    attached: new Set(),
    programmed: false,
  };
}

export function buildListener(ctx: Context, gw: GatewayNode, spec: Listener, ls?: ListenerSetNode): ListenerNode {
  const node: ListenerNode = {
    gateway: gw,
    ...(ls ? { listenerSet: ls } : {}),
    spec,
    id: listenerId(gw, spec, ls),
    supportedKinds: [],
    accepted: true,
    certificates: [],
    addresses: gw.addresses,
    attached: new Set(),
    programmed: false,
  };
  const protocol = String(spec.protocol);
  if (!(SUPPORTED_PROTOCOLS as readonly string[]).includes(protocol)) {
    node.accepted = false;
    node.rejected = {
      reason: Reason.UnsupportedProtocol,
      message: `protocol ${protocol} is not supported; use one of ${SUPPORTED_PROTOCOLS.join(', ')}`,
    };
    resolveKinds(node, []);
    return node;
  }
  if (spec.hostname !== undefined && !validHostname(spec.hostname)) {
    node.accepted = false;
    node.rejected = {
      reason: Reason.UnsupportedValue,
      message: `hostname ${JSON.stringify(spec.hostname)} is not a valid hostname (lower-case DNS name, optionally starting with "*.")`,
    };
    resolveKinds(node, []);
    return node;
  }
  if (typeof spec.port !== 'number' || !Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) {
    node.accepted = false;
    node.rejected = { reason: Reason.PortUnavailable, message: `port ${String(spec.port)} is not a valid port (1-65535)` };
  }
  if (protocol === 'HTTPS' && obj<GatewayTLSConfig>(spec.tls).mode === 'Passthrough') {
    node.accepted = false;
    node.rejected = {
      reason: Reason.UnsupportedValue,
      message: 'tls.mode Passthrough is not allowed with protocol HTTPS; use protocol TLS for passthrough',
    };
  }
  resolveKinds(node, KINDS_BY_PROTOCOL[protocol]!);
  if (node.accepted && (protocol === 'HTTPS' || (protocol === 'TLS' && tlsMode(spec) === 'Terminate'))) resolveCertificates(ctx, node);
  if (node.accepted && protocol === 'HTTPS') resolveClientValidation(ctx, node);
  return node;
}

function resolveKinds(node: ListenerNode, allowed: string[]): void {
  const requested = arr<RouteGroupKind>(obj<AllowedRoutes>(node.spec.allowedRoutes).kinds);
  if (requested.length === 0) {
    node.supportedKinds = allowed.map((kind) => ({ group: GATEWAY_GROUP, kind }));
    return;
  }
  const ok: RouteGroupKind[] = [];
  const bad: string[] = [];
  for (const k of requested) {
    const group = k.group ?? GATEWAY_GROUP;
    if (group === GATEWAY_GROUP && allowed.includes(k.kind)) {
      if (!ok.some((o) => o.kind === k.kind)) ok.push({ group, kind: k.kind });
    } else bad.push(`${group || 'core'}/${k.kind}`);
  }
  node.supportedKinds = ok;
  if (bad.length > 0 && !node.unresolved) {
    node.unresolved = {
      reason: Reason.InvalidRouteKinds,
      message: `allowedRoutes.kinds ${bad.join(', ')} not supported on a ${node.spec.protocol} listener; supported: ${allowed.join(', ') || 'none'}`,
    };
  }
}

function resolveCertificates(ctx: Context, node: ListenerNode): void {
  const refs = arr<SecretObjectReference>(obj<GatewayTLSConfig>(node.spec.tls).certificateRefs);
  // A ListenerSet's references start from its own namespace; a ReferenceGrant for its parent
  // Gateway does not extend to it (nor the reverse).
  const owner = listenerOwner(node);
  if (refs.length === 0) {
    node.unresolved = {
      reason: Reason.InvalidCertificateRef,
      message: `listener ${node.spec.name} terminates TLS but has no tls.certificateRefs; reference a kubernetes.io/tls Secret`,
    };
    return;
  }
  const problems: { reason: string; message: string }[] = [];
  for (const [i, ref] of refs.entries()) {
    const group = ref.group ?? CORE_GROUP;
    const kind = ref.kind ?? Kind.Secret;
    const ns = ref.namespace ?? owner.namespace;
    const where = `tls.certificateRefs[${i}]`;
    if (group !== CORE_GROUP || kind !== Kind.Secret) {
      problems.push({ reason: Reason.InvalidCertificateRef, message: `${where}: unsupported kind ${group || 'core'}/${kind}; use a core Secret` });
      continue;
    }
    if (!ctx.referenceAllowed({ group: GATEWAY_GROUP, kind: owner.kind, namespace: owner.namespace }, { group, kind, namespace: ns, name: ref.name })) {
      problems.push({
        reason: Reason.RefNotPermitted,
        message: `${where}: Secret ${ns}/${ref.name} is in another namespace and no ReferenceGrant there allows ${owner.kind}s from ${owner.namespace}`,
      });
      continue;
    }
    const secret = ctx.lookup<Secret>(Kind.Secret, ns, ref.name);
    if (!secret) {
      problems.push({ reason: Reason.InvalidCertificateRef, message: `${where}: Secret ${ns}/${ref.name} not found` });
      continue;
    }
    const r = certificateFromSecret(secret);
    if (!r.ok) problems.push({ reason: Reason.InvalidCertificateRef, message: `${where}: ${r.message}` });
    else node.certificates.push(r.certificate);
  }
  if (problems.length > 0) {
    // RefNotPermitted wins: the spec reserves InvalidCertificateRef for references that are allowed.
    const reason = problems.some((p) => p.reason === Reason.RefNotPermitted) ? Reason.RefNotPermitted : Reason.InvalidCertificateRef;
    node.unresolved = { reason, message: problems.map((p) => p.message).join('; ') };
  }
}
