// The Service in front of a Gateway's data plane: exactly the Gateway's listener ports, and
// its spec.addresses (GatewayStaticAddresses) mapped onto the Service as GEP-1762 describes
// ("the clusterIP or loadBalancerIP, depending on the Service type").

import { isIP } from 'node:net';
import type { Gateway, GatewayAddress, Listener } from '../api/types.js';
import { isObject } from '../api/validate-schema.js';
import type { EffectiveParameters } from './parameters.js';
import type { AddressPlan, UnusableAddress } from './types.js';

export interface PortSpec {
  /** tcp-443, udp-53: a valid IANA service name (at most 15 characters). */
  name: string;
  protocol: 'TCP' | 'UDP';
  port: number;
}

/**
 * One entry per distinct (port, protocol) among the listeners, sorted by port then protocol.
 * UDP listeners (UDPRoute) are UDP; every other protocol (HTTP, HTTPS, TLS, TCP, custom) is TCP.
 */
export function listenerPorts(gateway: Gateway): PortSpec[] {
  const seen = new Map<string, PortSpec>();
  const listeners = Array.isArray(gateway.spec?.listeners) ? (gateway.spec.listeners as unknown[]) : [];
  for (const l of listeners) {
    if (!isObject(l)) continue;
    const { port, protocol } = l as Partial<Listener>;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    const proto = protocol === 'UDP' ? 'UDP' : 'TCP';
    const key = `${port}/${proto}`;
    if (!seen.has(key)) seen.set(key, { name: `${proto.toLowerCase()}-${port}`, protocol: proto, port });
  }
  return [...seen.values()].sort((a, b) => a.port - b.port || a.protocol.localeCompare(b.protocol));
}

/** Where the requested addresses go, by Service type. */
export function planAddresses(gateway: Gateway, serviceType: string): AddressPlan & { fields: Record<string, unknown> } {
  const requested: GatewayAddress[] = Array.isArray(gateway.spec?.addresses) ? gateway.spec.addresses : [];
  const unusable: UnusableAddress[] = [];
  const ips: { index: number; value: string; family: 4 | 6 }[] = [];
  requested.forEach((a, index) => {
    const type = a.type ?? 'IPAddress';
    const value = typeof a.value === 'string' ? a.value : '';
    if (type !== 'IPAddress') {
      unusable.push({ index, value, message: `spec.addresses[${index}] type ${type} cannot be set on a Service; use type IPAddress` });
      return;
    }
    if (value === '') return; // "pick one for me": the Service gets whatever the cluster assigns
    const family = isIP(value);
    if (family === 0) {
      unusable.push({ index, value, message: `spec.addresses[${index}] '${value}' is not an IP address` });
      return;
    }
    if (ips.some((x) => x.value === value)) return;
    ips.push({ index, value, family: family as 4 | 6 });
  });
  const fields: Record<string, unknown> = {};
  const onService: string[] = [];
  const refuse = (x: { index: number; value: string }, why: string): void => {
    unusable.push({ index: x.index, value: x.value, message: `spec.addresses[${x.index}] ${x.value}: ${why}` });
  };
  if (serviceType === 'LoadBalancer') {
    // spec.loadBalancerIP holds one address; load balancers that honour it assign that one.
    ips.forEach((x, i) => {
      if (i === 0) onService.push(x.value);
      else refuse(x, `a LoadBalancer Service takes one requested address (spec.loadBalancerIP, already ${ips[0]!.value}); remove this one`);
    });
    if (onService.length > 0) fields.loadBalancerIP = onService[0];
  } else if (serviceType === 'ClusterIP') {
    // clusterIPs: at most one address per IP family, the first one primary.
    const families = new Set<number>();
    for (const x of ips) {
      if (families.has(x.family)) refuse(x, `a ClusterIP Service takes one IPv${x.family} address (already ${ips.find((y) => y.family === x.family)!.value}); remove this one`);
      else {
        families.add(x.family);
        onService.push(x.value);
      }
    }
    if (onService.length > 0) {
      fields.clusterIP = onService[0];
      fields.clusterIPs = [...onService];
      if (onService.length === 2) fields.ipFamilyPolicy = 'RequireDualStack';
    }
  } else {
    // NodePort: nodes' own addresses serve it; requested addresses become externalIPs that
    // kube-proxy answers on (Envoy Gateway's mapping).
    for (const x of ips) onService.push(x.value);
    if (onService.length > 0) fields.externalIPs = [...onService];
  }
  unusable.sort((a, b) => a.index - b.index);
  return { onService, unusable, fields };
}

export function serviceSpec(
  ports: PortSpec[],
  selector: Record<string, string>,
  p: EffectiveParameters,
  addressFields: Record<string, unknown>,
): Record<string, unknown> {
  const type = p.service.type ?? 'LoadBalancer';
  const spec: Record<string, unknown> = {
    type,
    selector,
    ports: ports.map((x) => ({ name: x.name, protocol: x.protocol, port: x.port, targetPort: x.port })),
    ...addressFields,
  };
  if (type !== 'ClusterIP' && p.service.externalTrafficPolicy) spec.externalTrafficPolicy = p.service.externalTrafficPolicy;
  return spec;
}
