// Does a change need a new translation? Gateway API objects always do. Secrets, Services,
// EndpointSlices, ConfigMaps and Namespaces only when the last translation looked them up
// (TranslateResult.references), ReferenceGrants only when it asked about a reference into their
// namespace: editing a Secret no route or listener names changes nothing.
// NGINX Gateway Fabric skips rebuilds the same way.

import type { Resource } from '../api/types.js';
import { Kind } from '../api/names.js';
import { keyOf } from './snapshot.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Kinds whose objects the translator only reads when something references them. */
const REFERENCED_KINDS: ReadonlySet<string> = new Set([Kind.Secret, Kind.Service, Kind.ConfigMap, Kind.Namespace, Kind.EndpointSlice, Kind.ReferenceGrant]);

/**
 * What a translation notes when it asks whether the ReferenceGrants of `namespace` allow a
 * reference into it (translate/context.ts): every grant there, as one key. No object is named "*".
 */
export function referenceGrantsKey(namespace: string): string {
  return keyOf(Kind.ReferenceGrant, namespace, '*');
}

/**
 * True when `changed` (the object before or after the change; call for both when both
 * exist) may change the translation that produced `references`. Without references (no
 * translation yet, or one from another producer) every change matters.
 */
export function changeMatters(references: ReadonlySet<string> | undefined, changed: Resource): boolean {
  if (!references) return true;
  if (!REFERENCED_KINDS.has(changed.kind)) return true;
  const ns = changed.metadata?.namespace ?? 'default';
  if (changed.kind === Kind.ReferenceGrant) return references.has(referenceGrantsKey(ns));
  if (changed.kind === Kind.EndpointSlice) {
    const svc = changed.metadata?.labels?.[SERVICE_NAME_LABEL];
    return typeof svc === 'string' && references.has(keyOf(Kind.Service, ns, svc));
  }
  return references.has(keyOf(changed.kind, ns, changed.metadata?.name ?? ''));
}
