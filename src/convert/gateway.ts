// The Gateway of an IngressClass (listeners from the hosts and spec.tls), the optional
// GatewayClass, and the ReferenceGrants and BackendTLSPolicies the routes need.

import type { BackendRef, Resource } from '../api/types.js';
import { GATEWAY_GROUP } from '../api/names.js';
import type { TLSHost } from './servers.js';
import { hostSlug, objectName } from './ingress.js';

export const httpsListenerName = (host: string): string => (host ? `https-${hostSlug(host)}` : 'https');
export const passthroughListenerName = (host: string): string => `tls-${hostSlug(host)}`;

/** The spec.tls host whose certificate serves `host`: exact, else a wildcard one label up, else a host-less entry. */
export function tlsFor(tls: ReadonlyMap<string, TLSHost>, host: string): TLSHost | undefined {
  const exact = tls.get(host);
  if (exact) return exact;
  if (host && !host.startsWith('*.')) {
    const dot = host.indexOf('.');
    const wild = dot > 0 ? tls.get(`*${host.slice(dot)}`) : undefined;
    if (wild) return wild;
  }
  return tls.get('');
}

export interface GatewayInput {
  className: string;
  namespace: string;
  httpPort: number;
  httpsPort: number;
  tls: ReadonlyMap<string, TLSHost>;
  passthroughHosts: readonly string[];
}

export function gatewayOf(g: GatewayInput, grant: (fromKind: string, fromNs: string, toKind: string, toNs: string, toName: string) => void): Resource {
  const all = { namespaces: { from: 'All' } };
  const listeners: Record<string, unknown>[] = [{ name: 'http', protocol: 'HTTP', port: g.httpPort, allowedRoutes: all }];
  for (const t of [...g.tls.values()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0))) {
    if (g.passthroughHosts.includes(t.host)) continue;
    const ref: Record<string, string> = { group: '', kind: 'Secret', name: t.secret.name };
    if (t.secret.namespace !== g.namespace) {
      ref.namespace = t.secret.namespace;
      grant('Gateway', g.namespace, 'Secret', t.secret.namespace, t.secret.name);
    }
    listeners.push({
      name: httpsListenerName(t.host),
      protocol: 'HTTPS',
      port: g.httpsPort,
      ...(t.host ? { hostname: t.host } : {}),
      tls: { mode: 'Terminate', certificateRefs: [ref] },
      allowedRoutes: all,
    });
  }
  for (const host of [...g.passthroughHosts].sort())
    listeners.push({ name: passthroughListenerName(host), protocol: 'TLS', port: g.httpsPort, hostname: host, tls: { mode: 'Passthrough' }, allowedRoutes: all });
  return {
    apiVersion: `${GATEWAY_GROUP}/v1`,
    kind: 'Gateway',
    metadata: { name: g.className, namespace: g.namespace },
    spec: { gatewayClassName: g.className, listeners },
  };
}

export function gatewayClassOf(name: string, controllerName: string): Resource {
  return { apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } };
}

/** Cross-namespace references, grouped into one ReferenceGrant per target namespace, source kind and namespace. */
export class GrantSet {
  private readonly want = new Map<string, { fromKind: string; fromNs: string; toKind: string; toNs: string; names: Set<string> }>();

  add(fromKind: string, fromNs: string, toKind: string, toNs: string, toName: string): void {
    if (fromNs === toNs) return;
    const k = `${toNs}\0${fromKind}\0${fromNs}\0${toKind}`;
    let e = this.want.get(k);
    if (!e) this.want.set(k, (e = { fromKind, fromNs, toKind, toNs, names: new Set() }));
    e.names.add(toName);
  }

  resources(): Resource[] {
    return [...this.want.values()].map((e) => ({
      apiVersion: `${GATEWAY_GROUP}/v1beta1`,
      kind: 'ReferenceGrant',
      metadata: { name: objectName('from', e.fromNs, e.fromKind, 'to', e.toKind), namespace: e.toNs },
      spec: {
        from: [{ group: GATEWAY_GROUP, kind: e.fromKind, namespace: e.fromNs }],
        to: [...e.names].sort().map((name) => ({ group: '', kind: e.toKind, name })),
      },
    }));
  }
}

/** One BackendTLSPolicy per Service reached with backend-protocol HTTPS/GRPCS. */
export function backendTLSPolicyOf(namespace: string, ref: BackendRef, tls: { hostname?: string; caSecret?: string }): Resource {
  const validation: Record<string, unknown> = { hostname: tls.hostname ?? `${ref.name}.${namespace}.svc` };
  if (tls.caSecret) validation.caCertificateRefs = [{ group: '', kind: 'ConfigMap', name: tls.caSecret.split('/').pop()! }];
  else validation.wellKnownCACertificates = 'System';
  return {
    apiVersion: `${GATEWAY_GROUP}/v1`,
    kind: 'BackendTLSPolicy',
    metadata: { name: objectName(ref.name, 'backend-tls'), namespace },
    spec: { targetRefs: [{ group: '', kind: 'Service', name: ref.name }], validation },
  };
}
