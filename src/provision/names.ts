// Names, labels and owner references of provisioned objects (GEP-1762, "In Cluster Gateway
// Deployments"): objects live in the Gateway's namespace, are named <gateway>-<gatewayClass>,
// and carry the gateway.networking.k8s.io/gateway-name label.

import { createHash } from 'node:crypto';
import type { Gateway } from '../api/types.js';
import { isObject } from '../api/validate-schema.js';
import type { OwnerReference, ProvisionOwner, ProvisionedMeta } from './types.js';

export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';
export const GATEWAY_CLASS_NAME_LABEL = 'gateway.networking.k8s.io/gateway-class-name';
/** GEP-1762 reserves this prefix: spec.infrastructure keys under it are not propagated. */
const RESERVED_PREFIX = 'gateway.networking.k8s.io/';

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex');
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The gateway-name label value. GEP-1762: a name longer than 63 characters becomes its first
 * 20 characters, '-', and the sha1 of the rest (40 hex digits). Used for the class name too.
 */
export function gatewayNameLabelValue(name: string): string {
  if (name.length <= 63) return name;
  return `${name.slice(0, 20)}-${sha1(name.slice(20))}`;
}

/**
 * Base name of the provisioned objects: `<gateway>-<gatewayClass>` (GEP-1762's SHOULD) when that
 * is a valid Service name (an RFC 1035 label: at most 63 characters, lowercase alphanumerics and
 * '-', starting with a letter). Otherwise the name is made valid ('.' and other characters become
 * '-', a leading digit gets a 'gw-' prefix), cut to 54 characters and suffixed with '-' and the
 * first 8 hex digits of the sha1 of the original, so distinct Gateways keep distinct names.
 */
export function resourceName(gatewayName: string, gatewayClassName: string): string {
  return validName(`${gatewayName}-${gatewayClassName}`);
}

/**
 * Base name of the objects of a Gateway generated from an IngressClass (convert/serve.ts): that
 * Gateway and its GatewayClass share one name, `portico-ingress-<IngressClass>`, so
 * `<gateway>-<gatewayClass>` would say it twice. The name once, made valid as resourceName()
 * does (an IngressClass may be named `a.b` or be long: '-' and a hash then, so two classes never
 * share a name). Unique per IngressClass in a namespace, and the same for the same class.
 */
export function ingressResourceName(generatedGatewayName: string): string {
  return validName(generatedGatewayName);
}

/**
 * Base name of a merged data plane's objects (every Gateway of the class, in the controller's
 * namespace): the GatewayClass name, made valid as resourceName() does. It never equals a
 * per-Gateway `<gateway>-<gatewayClass>` name of the same class.
 */
export function mergedResourceName(gatewayClassName: string): string {
  return validName(gatewayClassName);
}

function validName(base: string): string {
  if (base.length <= 63 && DNS1035.test(base)) return base;
  let s = base.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (!/^[a-z]/.test(s)) s = `gw-${s}`;
  s = s.slice(0, 54).replace(/-+$/, '');
  return `${s}-${sha1(base).slice(0, 8)}`;
}

/** The labels that select the data-plane pods. Never change for a given object name. */
export function selectorLabels(gateway: Gateway, name: string): Record<string, string> {
  return {
    'app.kubernetes.io/component': 'dataplane',
    'app.kubernetes.io/instance': name,
    [GATEWAY_NAME_LABEL]: gatewayNameLabelValue(gateway.metadata.name),
  };
}

/** Every label Portico sets itself (selector labels included): these win over spec.infrastructure. */
export function ownLabels(gateway: Gateway, name: string): Record<string, string> {
  return {
    ...selectorLabels(gateway, name),
    'app.kubernetes.io/managed-by': 'portico',
    'app.kubernetes.io/name': 'portico',
    [GATEWAY_CLASS_NAME_LABEL]: gatewayNameLabelValue(gateway.spec?.gatewayClassName ?? ''),
  };
}

/**
 * The owner of the provisioned objects: the Gateway, or for a merged data plane its
 * GatewayClass, or for the Gateway generated from an IngressClass (convert/serve.ts) that
 * IngressClass (both cluster-scoped, so they may own objects in any namespace).
 */
export function ownerReference(owner: ProvisionOwner, kind: string = 'Gateway'): OwnerReference[] | undefined {
  const uid = owner.metadata.uid;
  if (!uid) return undefined; // outside a cluster (files): nothing to own the objects
  return [
    {
      apiVersion: owner.apiVersion || 'gateway.networking.k8s.io/v1',
      kind,
      name: owner.metadata.name,
      uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
}

export function sortedMap(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k]!;
  return out;
}

export interface Propagated {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Keys left out, with the reason. */
  ignored: string[];
}

/**
 * spec.infrastructure labels and annotations, minus the keys GEP-1762 reserves
 * (gateway.networking.k8s.io/ prefix) and the label keys Portico sets itself.
 */
export function infrastructureMetadata(gateway: Gateway, own: Record<string, string>): Propagated {
  const infra = gateway.spec?.infrastructure;
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const ignored: string[] = [];
  const take = (field: 'labels' | 'annotations', into: Record<string, string>): void => {
    const m = isObject(infra) ? infra[field] : undefined;
    if (!isObject(m)) return;
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== 'string') continue;
      if (k.startsWith(RESERVED_PREFIX))
        ignored.push(`spec.infrastructure.${field}[${k}]: the ${RESERVED_PREFIX} prefix is reserved (GEP-1762)`);
      else if (field === 'labels' && k in own) ignored.push(`spec.infrastructure.labels[${k}]: Portico sets this label itself`);
      else into[k] = v;
    }
  };
  take('labels', labels);
  take('annotations', annotations);
  return { labels, annotations, ignored: ignored.sort() };
}

/** metadata of one provisioned object. */
export function objectMeta(
  gateway: Gateway,
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  owner?: { object: ProvisionOwner; kind: string },
): ProvisionedMeta {
  const meta: ProvisionedMeta = { name, namespace: gateway.metadata.namespace ?? 'default', labels: sortedMap(labels) };
  if (Object.keys(annotations).length > 0) meta.annotations = sortedMap(annotations);
  const owners = owner ? ownerReference(owner.object, owner.kind) : ownerReference(gateway);
  if (owners) meta.ownerReferences = owners;
  return meta;
}
