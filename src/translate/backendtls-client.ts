// Gateway spec.tls.backend.clientCertificateRef: the certificate the Gateway presents to
// backends it reaches over TLS (BackendTLSPolicy). Problems are the Gateway's ResolvedRefs
// (InvalidClientCertificateRef, or RefNotPermitted for a cross-namespace Secret no
// ReferenceGrant allows); they never affect Accepted: traffic goes without a client
// certificate, as it would with none configured.

import type { GatewaySpecTLS, Secret, SecretObjectReference } from '../api/types.js';
import type { BackendTarget, Cluster, HTTPFilter, HTTPRouteEntry, Listener as IRListener, TLSRouteEntry, WeightedBackend } from '../ir/types.js';
import { CORE_GROUP, GATEWAY_GROUP, Kind } from '../api/names.js';
import { certificateFromSecret } from './certificates.js';
import { sealKey } from '../ir/keys.js';
import { Reason } from './conditions.js';
import type { Context } from './context.js';
import type { GatewayNode, ListenerNode } from './graph.js';
import { obj } from './util.js';

export function resolveBackendClientCertificate(ctx: Context, node: GatewayNode): void {
  const tls = obj<GatewaySpecTLS>(node.resource.spec?.tls);
  const ref = obj<SecretObjectReference>(obj<NonNullable<GatewaySpecTLS['backend']>>(tls.backend).clientCertificateRef);
  if (typeof ref.name !== 'string' || ref.name === '') return;
  const group = ref.group ?? CORE_GROUP;
  const kind = ref.kind ?? Kind.Secret;
  const ns = ref.namespace ?? node.namespace;
  const at = 'spec.tls.backend.clientCertificateRef';
  const fail = (reason: string, message: string): void => void (node.resolvedRefs = { ok: false, reason, message });
  if (group !== CORE_GROUP || kind !== Kind.Secret) return fail(Reason.InvalidClientCertificateRef, `${at}: kind ${group || 'core'}/${kind} is not supported; use a kubernetes.io/tls Secret`);
  if (!ctx.referenceAllowed({ group: GATEWAY_GROUP, kind: Kind.Gateway, namespace: node.namespace }, { group, kind, namespace: ns, name: ref.name }))
    return fail(Reason.RefNotPermitted, `${at}: Secret ${ns}/${ref.name} is in another namespace and no ReferenceGrant there allows Gateways from ${node.namespace}`);
  const secret = ctx.lookup<Secret>(Kind.Secret, ns, ref.name);
  if (!secret) return fail(Reason.InvalidClientCertificateRef, `${at}: Secret ${ns}/${ref.name} not found`);
  const r = certificateFromSecret(secret);
  if (!r.ok) return fail(Reason.InvalidClientCertificateRef, `${at}: ${r.message}`);
  node.backendClientCertificate = sealKey({ secret: r.certificate.secret, certPem: r.certificate.certPem }, r.certificate.keyPem);
}

/**
 * The Gateway's ResolvedRefs, reported only when spec.tls is set (the condition is
 * experimental; every other Gateway keeps the two core conditions): the backend client
 * certificate first, then a summary of the listeners' ResolvedRefs.
 */
export function gatewayResolvedRefs(node: GatewayNode): { ok: boolean; reason: string; message: string } | undefined {
  if (node.resource.spec?.tls === undefined || node.resource.spec?.tls === null) return undefined;
  if (node.resolvedRefs) return node.resolvedRefs;
  const bad = node.listeners.filter((l: ListenerNode) => l.unresolved);
  if (bad.length > 0) return { ok: false, reason: Reason.ListenersNotResolved, message: `listeners with unresolved references: ${bad.map((l) => l.spec.name).join(', ')}` };
  return { ok: true, reason: Reason.ResolvedRefs, message: 'All references are resolved' };
}

/**
 * The listener as served by a Gateway with a backend client certificate: every backend whose
 * cluster speaks TLS (BackendTLSPolicy; HTTP routes, and TLSRoutes re-encrypting behind a
 * Terminate listener) points at a copy of that cluster carrying the
 * certificate, named `<cluster>@<gateway ns>/<gateway name>`, so Gateways with different
 * certificates (or none) never share a TLS session pool. Shared route objects are copied,
 * never edited. New clusters are added to `extra`.
 */
export function withClientCertificate(l: IRListener, gw: GatewayNode, all: Readonly<Record<string, Cluster>>, extra: Record<string, Cluster>): IRListener {
  const cert = gw.backendClientCertificate;
  if (!cert || (!l.virtualHosts && !l.tlsRoutes)) return l;
  const rename = (name: string | undefined): string | undefined => {
    const c = name === undefined ? undefined : all[name];
    if (!c?.tls) return name;
    const renamed = `${c.name}@${gw.namespace}/${gw.name}`;
    extra[renamed] ??= { ...c, name: renamed, tls: { ...c.tls, clientCertificate: cert } };
    return renamed;
  };
  const target = <T extends BackendTarget>(b: T): T => (b.cluster === undefined ? b : { ...b, cluster: rename(b.cluster) });
  const filters = (fs: HTTPFilter[]): HTTPFilter[] => fs.map((f) => (f.type === 'RequestMirror' ? { ...f, backend: target(f.backend) } : f));
  const backend = (b: WeightedBackend): WeightedBackend => {
    const out = target(b);
    return b.filters ? { ...out, filters: filters(b.filters) } : out;
  };
  // A TLS listener in Terminate mode re-encrypts to BackendTLSPolicy clusters (dataplane/l4/reencrypt.ts):
  // the Gateway presents the same certificate there. Passthrough clusters carry no tls, so rename leaves them.
  if (l.tlsRoutes) return { ...l, tlsRoutes: l.tlsRoutes.map((r: TLSRouteEntry) => ({ ...r, backends: r.backends.map(target) })) };
  if (!l.virtualHosts) return l;
  return {
    ...l,
    virtualHosts: l.virtualHosts.map((vh) => ({
      ...vh,
      routes: vh.routes.map((r: HTTPRouteEntry) => ({ ...r, filters: filters(r.filters), backends: r.backends.map(backend) })),
    })),
  };
}
