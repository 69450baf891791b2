// One immutable view of every resource Portico knows, by kind/namespace/name.
// Built once per batch of changes; the translator only reads it.

import type { Resource } from '../api/types.js';
import { CLUSTER_SCOPED } from '../api/names.js';

/** A resource plus where it came from (a file path in file mode; absent from the API server). */
export interface Entry<R = Resource> {
  readonly resource: R;
  readonly origin?: string;
}

export function keyOf(kind: string, namespace: string | undefined, name: string): string {
  return CLUSTER_SCOPED.has(kind) ? `${kind}/${name}` : `${kind}/${namespace ?? 'default'}/${name}`;
}

export class Snapshot {
  private readonly byKey: ReadonlyMap<string, Entry>;
  private readonly byKind: ReadonlyMap<string, readonly Entry[]>;

  /**
   * Entries with a missing namespace on a namespaced kind are placed in "default", as kubectl does.
   * A later entry with the same kind/namespace/name replaces an earlier one.
   */
  constructor(entries: Iterable<Entry>) {
    const byKey = new Map<string, Entry>();
    for (let e of entries) {
      const r = e.resource;
      // An object without kind or name cannot be addressed by anything; sources report it, the snapshot skips it.
      if (!r || typeof r.kind !== 'string' || !r.metadata || typeof r.metadata.name !== 'string') continue;
      if (!CLUSTER_SCOPED.has(r.kind) && !r.metadata.namespace) {
        e = { ...e, resource: { ...r, metadata: { ...r.metadata, namespace: 'default' } } };
      }
      byKey.set(keyOf(e.resource.kind, e.resource.metadata.namespace, e.resource.metadata.name), e);
    }
    const byKind = new Map<string, Entry[]>();
    const sortedKeys = [...byKey.keys()].sort();
    for (const k of sortedKeys) {
      const e = byKey.get(k)!;
      let list = byKind.get(e.resource.kind);
      if (!list) byKind.set(e.resource.kind, (list = []));
      list.push(e);
    }
    this.byKey = byKey;
    this.byKind = byKind;
  }

  /** Every resource of a kind, sorted by namespace then name. */
  list<R = Resource>(kind: string): readonly R[] {
    return (this.byKind.get(kind) ?? []).map((e) => e.resource as R);
  }

  entries(kind: string): readonly Entry[] {
    return this.byKind.get(kind) ?? [];
  }

  get<R = Resource>(kind: string, namespace: string | undefined, name: string): R | undefined {
    return this.byKey.get(keyOf(kind, namespace, name))?.resource as R | undefined;
  }

  origin(kind: string, namespace: string | undefined, name: string): string | undefined {
    return this.byKey.get(keyOf(kind, namespace, name))?.origin;
  }

  /** Every entry by store key (keyOf): what translate/incremental.ts compares snapshots by. */
  byKeys(): ReadonlyMap<string, Entry> {
    return this.byKey;
  }

  get size(): number {
    return this.byKey.size;
  }
}
