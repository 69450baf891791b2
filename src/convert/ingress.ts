// Reading Ingress objects the way ingress-nginx does: which IngressClass an Ingress belongs
// to, its annotations, the order Ingresses are merged in, and Ingress backends as
// Gateway API backendRefs.

import type { BackendRef, Resource, ServicePort } from '../api/types.js';
import type { ConvertInput, ConvertOptions, Ingress, IngressBackend, IngressClass } from './types.js';

export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/';
const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export const nsOf = (r: Resource): string => r.metadata.namespace || 'default';
export const idOf = (r: Resource): string => `${nsOf(r)}/${r.metadata.name}`;

/** ingress-nginx resolves conflicts (same host and path in two Ingresses) in favour of the oldest; ties by namespace/name. */
export function mergeOrder(a: Ingress, b: Ingress): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ia = idOf(a);
  const ib = idOf(b);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}

/** The IngressClass name of an Ingress: spec.ingressClassName, the legacy annotation, the default-marked IngressClass, else the option. */
export function classOf(ing: Ingress, classes: readonly IngressClass[], options: ConvertOptions): string {
  if (ing.spec?.ingressClassName) return ing.spec.ingressClassName;
  const legacy = ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy) return legacy;
  const def = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true').map((c) => c.metadata.name).sort();
  return def[0] ?? options.defaultIngressClass ?? 'nginx';
}

/** The ingress-nginx annotations of an Ingress, prefix stripped. */
export function nginxAnnotations(ing: Ingress): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(ing.metadata.annotations ?? {})) if (k.startsWith(NGINX_PREFIX)) out.set(k.slice(NGINX_PREFIX.length), String(v));
  return out;
}

export function truthy(v: string | undefined): boolean {
  return v !== undefined && v.trim().toLowerCase() === 'true';
}

/** A Service port by number or name, from the Services the caller supplied. */
export function servicePort(input: ConvertInput, namespace: string, name: string, port: { number?: number; name?: string } | undefined): ServicePort | undefined {
  const svc = (input.services ?? []).find((s) => s.kind === 'Service' && nsOf(s) === namespace && s.metadata.name === name);
  const ports = ((svc?.spec as { ports?: ServicePort[] } | undefined)?.ports ?? []) as ServicePort[];
  if (port?.number !== undefined) return ports.find((p) => p.port === port.number);
  if (port?.name !== undefined) return ports.find((p) => p.name === port.name);
  return undefined;
}

export type BackendResult = { ok: true; ref: BackendRef } | { ok: false; why: string };

/** An Ingress backend as a backendRef in `namespace`; a named port needs its Service to find the number. */
export function backendRefOf(input: ConvertInput, ing: Ingress, b: IngressBackend | undefined, routeNamespace: string): BackendResult {
  if (!b) return { ok: false, why: 'no backend' };
  if (b.resource) return { ok: false, why: `resource backend ${b.resource.kind} ${b.resource.name}: Gateway API backendRefs to non-Service kinds are implementation-specific; Portico serves Services only` };
  const svc = b.service;
  if (!svc?.name) return { ok: false, why: 'backend has no service' };
  const ns = nsOf(ing);
  let port = svc.port?.number;
  if (port === undefined && svc.port?.name !== undefined) {
    port = servicePort(input, ns, svc.name, svc.port)?.port;
    if (port === undefined)
      return { ok: false, why: `Service ${ns}/${svc.name} port "${svc.port.name}" is named; a backendRef needs its number: pass the Service manifest (or --from-cluster)` };
  }
  if (port === undefined) return { ok: false, why: `Service ${ns}/${svc.name} has no port` };
  const ref: BackendRef = { name: svc.name, port };
  if (ns !== routeNamespace) ref.namespace = ns;
  return { ok: true, ref };
}

/** A listener or object name fragment from a hostname: "*.example.com" -> "wildcard-example-com". */
export function hostSlug(host: string): string {
  if (host === '') return 'all-hosts';
  return host.replace(/^\*\./, 'wildcard.').replace(/[^a-z0-9]+/gi, '-').toLowerCase().replace(/^-+|-+$/g, '');
}

/** A DNS-1123 object name of at most 253 characters. */
export function objectName(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('-').toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 253);
}
