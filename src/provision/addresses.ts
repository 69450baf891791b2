// Gateway status.addresses from the provisioned Service, as the controller reads it back:
// the load balancer's ingress points when it has any, else the Service's externalIPs, else its
// cluster IPs. Requested spec.addresses missing from the result are reported, so the caller can
// set Programmed False with reason AddressNotAssigned.

import type { GatewayAddress } from '../api/types.js';

/** The parts of a core/v1 Service this reads. */
export interface ServiceView {
  spec?: { type?: string; clusterIP?: string; clusterIPs?: string[]; externalIPs?: string[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

export interface StatusAddresses {
  addresses: GatewayAddress[];
  /** Type LoadBalancer, and the load balancer has not reported an ingress point yet. */
  pending: boolean;
  /** Requested IPAddress values that are not among `addresses`. */
  notAssigned: string[];
}

const uniq = <T>(xs: T[], key: (x: T) => string): T[] => {
  const seen = new Set<string>();
  return xs.filter((x) => (seen.has(key(x)) ? false : (seen.add(key(x)), true)));
};

export function statusAddresses(service: ServiceView, requested: readonly GatewayAddress[] = []): StatusAddresses {
  const type = service.spec?.type ?? 'ClusterIP';
  const ingress = service.status?.loadBalancer?.ingress ?? [];
  let addresses: GatewayAddress[] = [];
  if (type === 'LoadBalancer') {
    for (const i of ingress) {
      if (i.ip) addresses.push({ type: 'IPAddress', value: i.ip });
      else if (i.hostname) addresses.push({ type: 'Hostname', value: i.hostname });
    }
  }
  if (addresses.length === 0 && service.spec?.externalIPs?.length)
    addresses = service.spec.externalIPs.map((value) => ({ type: 'IPAddress', value }));
  if (addresses.length === 0) {
    const ips = service.spec?.clusterIPs?.length ? service.spec.clusterIPs : service.spec?.clusterIP ? [service.spec.clusterIP] : [];
    addresses = ips.filter((ip) => ip !== 'None').map((value) => ({ type: 'IPAddress', value }));
  }
  addresses = uniq(addresses, (a) => `${a.type}/${a.value}`);
  const have = new Set(addresses.map((a) => a.value));
  const notAssigned = requested
    .filter((a) => (a.type ?? 'IPAddress') === 'IPAddress' && typeof a.value === 'string' && a.value !== '' && !have.has(a.value))
    .map((a) => a.value);
  return { addresses, pending: type === 'LoadBalancer' && ingress.length === 0, notAssigned };
}

/** Whether two versions of a provisioned Service give its Gateway the same status addresses (what the controller reads of it). */
export function sameStatusAddresses(a: ServiceView, b: ServiceView): boolean {
  return JSON.stringify(statusAddresses(a)) === JSON.stringify(statusAddresses(b));
}
