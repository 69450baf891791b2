// Which changes need a new translation. Two kinds of change do not:
// - an update that only touched .status (or bookkeeping metadata): our own status writes
//   echo back through the watch, and rebuilding on them would loop;
// - a Secret, Service, EndpointSlice or ConfigMap that no Gateway API object names
//   (clusters hold thousands of these, most of them unrelated to any route).

import { GATEWAY_GROUP, Kind } from '../api/names.js';
import type { Resource } from '../api/types.js';
import type { Entry, Snapshot } from '../store/snapshot.js';
import type { SourceChange } from '../sources/kubernetes.js';
import { canonical } from './status-merge.js';

/** The object minus .status and the metadata the API server rewrites on every write. */
export function specFingerprint(r: Resource): string {
  const { status: _s, metadata, ...rest } = r as Resource & { metadata: Record<string, unknown> };
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = metadata as Record<string, unknown>;
  return canonical({ ...rest, metadata: meta });
}

/** The names one object could refer to (see referencedNames), worked out once per object. */
const namesCache = new WeakMap<Resource, readonly string[]>();

function namesIn(r: Resource): readonly string[] {
  let names = namesCache.get(r);
  if (names) return names;
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
  const ns = r.metadata.namespace ?? '';
  if (r.kind === Kind.Ingress) {
    // Ingresses served directly (convert/serve.ts) name Services in their backends, Secrets in
    // spec.tls and a ConfigMap in custom-headers; whether they are Portico's is decided later,
    // so every Ingress counts (the cost is a spurious rebuild at most).
    visit(r.spec, ns);
    for (const t of (r.spec as { tls?: { secretName?: string }[] } | undefined)?.tls ?? []) if (typeof t.secretName === 'string') out.add(`${ns}/${t.secretName}`);
    const headers = r.metadata.annotations?.['nginx.ingress.kubernetes.io/custom-headers'];
    if (typeof headers === 'string') out.add(headers.includes('/') ? headers : `${ns}/${headers}`);
  } else if (typeof r.apiVersion === 'string' && r.apiVersion.startsWith(`${GATEWAY_GROUP}/`)) {
    visit(r.spec, ns);
  }
  names = [...out];
  namesCache.set(r, names);
  return names;
}

/**
 * `namespace/name` of everything a Gateway API object's spec could name. Deliberately
 * broad (any {name, namespace?} object anywhere in a spec, namespace defaulting to the
 * referrer's): a spurious rebuild costs little, a missed one serves stale config.
 */
export function referencedNames(snapshot: Snapshot): Set<string> {
  const out = new Set<string>();
  for (const e of snapshot.byKeys().values()) for (const n of namesIn(e.resource)) out.add(n);
  return out;
}

/**
 * referencedNames kept up to date across snapshots: from a snapshot patched from the one seen
 * last (Snapshot.delta), only the changed objects are looked at, each name counted once per
 * object that names it. At 10,000 routes walking every spec took ~30 ms per rebuild.
 */
export class ReferencedNames {
  private counts = new Map<string, number>();
  private from: ReadonlyMap<string, Entry> | undefined;

  update(snapshot: Snapshot): void {
    const now = snapshot.byKeys();
    const d = snapshot.delta;
    if (d && this.from !== undefined && d.from === this.from) {
      for (const k of d.keys) {
        const before = d.from.get(k);
        if (before) for (const n of namesIn(before.resource)) this.count(n, -1);
        const after = now.get(k);
        if (after) for (const n of namesIn(after.resource)) this.count(n, 1);
      }
    } else {
      this.counts = new Map();
      for (const e of now.values()) for (const n of namesIn(e.resource)) this.count(n, 1);
    }
    this.from = now;
  }

  has(name: string): boolean {
    return this.counts.has(name);
  }

  private count(n: string, by: 1 | -1): void {
    const c = (this.counts.get(n) ?? 0) + by;
    if (c > 0) this.counts.set(n, c);
    else this.counts.delete(n);
  }
}

export type Verdict = 'rebuild' | 'status-only' | 'unreferenced';

export function classify(c: SourceChange, referenced: { has(name: string): boolean }): Verdict {
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
