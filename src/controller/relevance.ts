// Which changes need a new translation. Two kinds of change do not:
// - an update that only touched .status (or bookkeeping metadata): our own status writes
//   echo back through the watch, and rebuilding on them would loop;
// - a Secret, Service, EndpointSlice or ConfigMap that no Gateway API object names
//   (clusters hold thousands of these, most of them unrelated to any route).

import { GATEWAY_GROUP, Kind } from '../api/names.js';
import type { Resource } from '../api/types.js';
import type { Snapshot } from '../store/snapshot.js';
import type { SourceChange } from '../sources/kubernetes.js';
import { canonical } from './status-merge.js';

/** The object minus .status and the metadata the API server rewrites on every write. */
export function specFingerprint(r: Resource): string {
  const { status: _s, metadata, ...rest } = r as Resource & { metadata: Record<string, unknown> };
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata as Record<string, unknown>;
  return canonical({ ...rest, metadata: meta });
}

/**
 * `namespace/name` of everything a Gateway API object's spec could name. Deliberately
 * broad (any {name, namespace?} object anywhere in a spec, namespace defaulting to the
 * referrer's): a spurious rebuild costs little, a missed one serves stale config.
 */
export function referencedNames(snapshot: Snapshot): Set<string> {
  const out = new Set<string>();
  const visit = (v: unknown, ns: string): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x, ns);
    } else if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      if (typeof o.name === 'string') {
        out.add(`${typeof o.namespace === 'string' ? o.namespace : ns}/${o.name}`);
      }
      for (const x of Object.values(o)) visit(x, ns);
    }
  };
  for (const kind of Object.values(Kind)) {
    if (kind === Kind.Ingress) continue;
    for (const r of snapshot.list<Resource>(kind)) {
      if (!r.apiVersion.startsWith(`${GATEWAY_GROUP}/`)) continue;
      visit(r.spec, r.metadata.namespace ?? '');
    }
  }
  // Ingresses served directly (convert/serve.ts) name Services in their backends, Secrets in
  // spec.tls and a ConfigMap in custom-headers; whether they are Portico's is decided later,
  // so every Ingress counts (the cost is a spurious rebuild at most).
  for (const r of snapshot.list<Resource>(Kind.Ingress)) {
    const ns = r.metadata.namespace ?? '';
    visit(r.spec, ns);
    for (const t of (r.spec as { tls?: { secretName?: string }[] } | undefined)?.tls ?? []) if (typeof t.secretName === 'string') out.add(`${ns}/${t.secretName}`);
    const headers = r.metadata.annotations?.['nginx.ingress.kubernetes.io/custom-headers'];
    if (typeof headers === 'string') out.add(headers.includes('/') ? headers : `${ns}/${headers}`);
  }
  return out;
}

export type Verdict = 'rebuild' | 'status-only' | 'unreferenced';

export function classify(c: SourceChange, referenced: ReadonlySet<string>): Verdict {
  if (c.type === 'update' && c.old && specFingerprint(c.old) === specFingerprint(c.resource)) return 'status-only';
  const r = c.resource;
  const ns = r.metadata.namespace ?? '';
  switch (c.kind) {
    case Kind.Secret:
    case Kind.Service:
    case Kind.ConfigMap:
      return referenced.has(`${ns}/${r.metadata.name}`) ? 'rebuild' : 'unreferenced';
    case Kind.EndpointSlice: {
      const svc = r.metadata.labels?.['kubernetes.io/service-name'];
      const oldSvc = c.old?.metadata.labels?.['kubernetes.io/service-name'];
      const hit = (s: string | undefined) => s !== undefined && referenced.has(`${ns}/${s}`);
      return hit(svc) || hit(oldSvc) ? 'rebuild' : 'unreferenced';
    }
    default:
      return 'rebuild';
  }
}
