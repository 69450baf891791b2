// Listener conflicts: within one Gateway (spec: Conflicted with HostnameConflict or
// ProtocolConflict) and between Gateways that share a bind address and port, which Portico
// serves from one socket.
//
// Tie rules:
// - Inside one Gateway every listener of a conflicting set is marked: the spec gives no
//   winner, and marking all of them makes the fix obvious to the author. A marked listener
//   reports Conflicted True and Accepted False with the same reason, and serves nothing.
// - Between Gateways the oldest Gateway (creationTimestamp, then namespace/name) keeps the
//   port; listeners of younger Gateways that clash with it are marked.
// - 0.0.0.0 / :: and a specific IP on the same port cannot both be bound; the younger
//   Gateway's listener gets Accepted False PortUnavailable.

import { Reason } from './conditions.js';
import { allListeners, type GatewayNode, type ListenerNode } from './graph.js';

function family(protocol: string): 'tcp' | 'udp' {
  return protocol === 'UDP' ? 'udp' : 'tcp';
}
function hostKey(l: ListenerNode): string {
  return l.spec.hostname ?? '';
}
function usesHostname(protocol: string): boolean {
  return protocol === 'HTTP' || protocol === 'HTTPS' || protocol === 'TLS';
}
function isWildcardAddress(a: string): boolean {
  return a === '0.0.0.0' || a === '::';
}

/**
 * Protocols that may share one port. HTTPS and TLS (Passthrough or Terminate) are both chosen by
 * the SNI of the ClientHello, so the data plane can tell them apart by hostname on one socket
 * (the spec leaves "compatible" combinations to the implementation; GATEWAY-TLS's
 * TLSRouteModeMixed). Identical hostnames still clash: HostnameConflict.
 */
export function protocolsCompatible(a: string, b: string): boolean {
  return a === b || (bySNI(a) && bySNI(b));
}
function bySNI(protocol: string): boolean {
  return protocol === 'HTTPS' || protocol === 'TLS';
}

/** How `l` clashes with `o` (the spec's reasons), or undefined when they are distinct. */
export function conflictBetween(l: ListenerNode, o: ListenerNode): string | undefined {
  if (l.spec.port !== o.spec.port || family(l.spec.protocol) !== family(o.spec.protocol)) return undefined;
  if (!protocolsCompatible(l.spec.protocol, o.spec.protocol)) return Reason.ProtocolConflict;
  if (!usesHostname(l.spec.protocol) || hostKey(l) === hostKey(o)) return Reason.HostnameConflict;
  return undefined;
}

export function markConflictsWithinGateway(gw: GatewayNode): void {
  const byPort = new Map<string, ListenerNode[]>();
  for (const l of gw.listeners) {
    if (!l.accepted) continue;
    const key = `${l.spec.port}/${family(l.spec.protocol)}`;
    let list = byPort.get(key);
    if (!list) byPort.set(key, (list = []));
    list.push(l);
  }
  for (const group of byPort.values()) {
    const protocols = new Set(group.map((l) => l.spec.protocol));
    if (protocols.size > 1 && !group.every((l) => protocolsCompatible(l.spec.protocol, group[0]!.spec.protocol))) {
      for (const l of group)
        l.conflicted = {
          reason: Reason.ProtocolConflict,
          message: `port ${l.spec.port} is used by listeners with different protocols (${[...protocols].sort().join(', ')})`,
        };
      continue;
    }
    const protocol = group[0]!.spec.protocol;
    if (!usesHostname(protocol)) {
      if (group.length > 1)
        for (const l of group)
          l.conflicted = {
            reason: Reason.HostnameConflict,
            message: `${protocol} port ${l.spec.port} is used by ${group.length} listeners (${group.map((g) => g.spec.name).join(', ')}); a ${protocol} port carries one listener`,
          };
      continue;
    }
    const byHost = new Map<string, ListenerNode[]>();
    for (const l of group) {
      let list = byHost.get(hostKey(l));
      if (!list) byHost.set(hostKey(l), (list = []));
      list.push(l);
    }
    for (const [host, same] of byHost) {
      if (same.length < 2) continue;
      for (const l of same)
        l.conflicted = {
          reason: Reason.HostnameConflict,
          message: `listeners ${same.map((s) => s.spec.name).join(', ')} share port ${l.spec.port} and ${host ? `hostname ${host}` : 'an empty hostname'}`,
        };
    }
  }
}

interface Claim {
  listener: ListenerNode;
  address: string;
}

/** Call with Gateways oldest first. */
export function markConflictsAcrossGateways(gateways: readonly GatewayNode[]): void {
  const claims = new Map<string, Claim[]>(); // `${port}/${family}`
  for (const gw of gateways) {
    const mine: Claim[] = [];
    for (const l of allListeners(gw)) {
      if (!l.accepted || l.conflicted) continue;
      const key = `${l.spec.port}/${family(l.spec.protocol)}`;
      const held = claims.get(key) ?? [];
      let clash: { kind: 'port' | 'protocol' | 'host'; other: ListenerNode; address: string } | undefined;
      for (const address of l.addresses) {
        for (const c of held) {
          if (c.address !== address) {
            if (isWildcardAddress(c.address) || isWildcardAddress(address)) clash ??= { kind: 'port', other: c.listener, address };
            continue;
          }
          const o = c.listener;
          if (!protocolsCompatible(o.spec.protocol, l.spec.protocol)) clash ??= { kind: 'protocol', other: o, address };
          else if (!usesHostname(l.spec.protocol) || hostKey(o) === hostKey(l)) clash ??= { kind: 'host', other: o, address };
        }
      }
      if (clash) {
        const who = `listener ${clash.other.id}`;
        if (clash.kind === 'port') {
          l.accepted = false;
          l.rejected = {
            reason: Reason.PortUnavailable,
            message: `port ${l.spec.port} on ${clash.address} overlaps ${who}, bound on ${clash.other.addresses.join(', ')}; give both Gateways the same address or different ports`,
          };
        } else if (clash.kind === 'protocol') {
          l.conflicted = {
            reason: Reason.ProtocolConflict,
            message: `port ${l.spec.port} on ${clash.address} is already used with protocol ${clash.other.spec.protocol} by ${who}`,
          };
        } else {
          l.conflicted = {
            reason: Reason.HostnameConflict,
            message: `port ${l.spec.port} on ${clash.address} is already used for ${hostKey(l) ? `hostname ${hostKey(l)}` : 'an empty hostname'} by ${who}`,
          };
        }
        continue;
      }
      for (const address of l.addresses) mine.push({ listener: l, address });
    }
    for (const c of mine) {
      const key = `${c.listener.spec.port}/${family(c.listener.spec.protocol)}`;
      let held = claims.get(key);
      if (!held) claims.set(key, (held = []));
      held.push(c);
    }
  }
}
