// Nodes of the resource graph built once per translate() call (NGINX Gateway Fabric style:
// every node carries whether it is valid and the conditions that say why).

import type { Condition, Gateway, GatewayClass, Listener, ListenerSet, RouteGroupKind } from '../api/types.js';
import type { Certificate, ClientValidation } from '../ir/types.js';

export interface GatewayClassNode {
  resource: GatewayClass;
  accepted: boolean;
  conditions: Condition[];
}

export interface ListenerNode {
  gateway: GatewayNode;
  /** Set for a listener a ListenerSet adds to its parent Gateway. */
  listenerSet?: ListenerSetNode;
  spec: Listener;
  /** IR name: `${ns}/${gateway}/${listener}`; a ListenerSet's: `${ns}/${gateway}/${lsNamespace}.${lsName}.${listener}`. */
  id: string;
  supportedKinds: RouteGroupKind[];
  /** Listener Accepted condition is True (protocol supported, port usable). */
  accepted: boolean;
  conflicted?: { reason: string; message: string };
  /** HTTPS: other listeners on the same port whose hostnames overlap this one's (overlapping-tls.ts). */
  overlappingTLS?: string[];
  /** ResolvedRefs False: reason + message. */
  unresolved?: { reason: string; message: string };
  /** Accepted False: reason + message. */
  rejected?: { reason: string; message: string };
  certificates: Certificate[];
  /** HTTPS: client certificate validation from the Gateway's spec.tls.frontend (frontendtls.ts). */
  clientValidation?: ClientValidation;
  /** Bind address this listener serves on (one per Gateway address). */
  addresses: string[];
  /** Routes attached (Accepted True) by "kind/ns/name" — counted once however many parentRefs select it. */
  attached: Set<string>;
  /** Serves traffic: accepted, not conflicted, refs resolved, gateway programmed. */
  programmed: boolean;
}

export interface GatewayNode {
  resource: Gateway;
  namespace: string;
  name: string;
  generation: number;
  gatewayClass: GatewayClassNode;
  /** Bind addresses: spec.addresses IPAddress values, else the default address. */
  addresses: string[];
  /** The Gateway's own spec.listeners (a ListenerSet's are in listenerSets). */
  listeners: ListenerNode[];
  /** ListenerSets allowed by spec.allowedListeners, in the spec's precedence order (creation time, then namespace/name). */
  listenerSets: ListenerSetNode[];
  accepted?: { ok: boolean; reason: string; message: string };
  /** Set when the Gateway itself (class, addresses, infrastructure) is not accepted: routes cannot attach to it. */
  rejected?: string;
  programmed?: { ok: boolean; reason: string; message: string };
  /** spec.tls.frontend asks for AllowInsecureFallback somewhere: InsecureFrontendValidationMode True. */
  insecureFrontend?: boolean;
  /** spec.tls.backend.clientCertificateRef, resolved (backendtls-client.ts); problems go to the Gateway's ResolvedRefs. */
  backendClientCertificate?: { secret: string; certPem: string; keyPem: string };
  /** Gateway ResolvedRefs, reported only when spec.tls is set (the condition is experimental). */
  resolvedRefs?: { ok: boolean; reason: string; message: string };
}

/** A ListenerSet whose parentRef names one of our Gateways. */
export interface ListenerSetNode {
  resource: ListenerSet;
  namespace: string;
  name: string;
  generation: number;
  gateway: GatewayNode;
  /** Built only when the Gateway accepts the ListenerSet (allowedListeners, parent accepted). */
  listeners: ListenerNode[];
  accepted?: { ok: boolean; reason: string; message: string };
  programmed?: { ok: boolean; reason: string; message: string };
}

/** The Gateway's merged listener list, in the spec's precedence order: its own, then each attached ListenerSet's. */
export function allListeners(gw: GatewayNode): ListenerNode[] {
  if (gw.listenerSets.length === 0) return gw.listeners;
  const out = [...gw.listeners];
  for (const ls of gw.listenerSets) out.push(...ls.listeners);
  return out;
}
