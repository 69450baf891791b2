// Does a change need a new translation? Gateway API objects always do. Secrets, Services,
// EndpointSlices, ConfigMaps and Namespaces only when the last translation looked them up
// (TranslateResult.references): editing a Secret no route or listener names changes nothing.
// NGINX Gateway Fabric skips rebuilds the same way.

import type { Resource } from '../api/types.js';
import { Kind } from '../api/names.js';
import { keyOf } from './snapshot.js';

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Kinds whose objects the translator only reads when something references them. */
const REFERENCED_KINDS: ReadonlySet<string> = new Set([Kind.Secret, Kind.Service, Kind.ConfigMap, Kind.Namespace, Kind.EndpointSlice]);

/**
 * True when `changed` (the object before or after the change; call for both when both
 * exist) may change the translation that produced `references`. Without references (no
 * translation yet, or one from another producer) every change matters.
 */
export function changeMatters(references: ReadonlySet<string> | undefined, changed: Resource): boolean {
  if (!references) return true;
  if (!REFERENCED_KINDS.has(changed.kind)) return true;
  const ns = changed.metadata?.namespace ?? 'default';
  if (changed.kind === Kind.EndpointSlice) {
    const svc = changed.metadata?.labels?.[SERVICE_NAME_LABEL];
    return typeof svc === 'string' && references.has(keyOf(Kind.Service, ns, svc));
  }
  return references.has(keyOf(changed.kind, ns, changed.metadata?.name ?? ''));
}
