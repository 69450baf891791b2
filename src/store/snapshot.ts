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

function upperBound(sorted: readonly string[], k: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Each Entry's key (and its entry with the default namespace filled in), computed once: sources
 * hand the same Entry object for an unchanged object, and entries are never modified.
 */
const placement = new WeakMap<Entry, { key: string; entry: Entry } | null>();

export class Snapshot {
  private readonly byKey: ReadonlyMap<string, Entry>;
  private readonly byKind: ReadonlyMap<string, readonly Entry[]>;

  /** Per kind, the store keys in sorted order (parallel to byKind). */
  private readonly keysByKind: ReadonlyMap<string, readonly string[]>;

  /**
   * Entries with a missing namespace on a namespaced kind are placed in "default", as kubectl does.
   * A later entry with the same kind/namespace/name replaces an earlier one.
   * `previous`: the snapshot before this batch of changes. Its sorted lists are reused for every
   * kind nothing changed in, and patched for the others, instead of sorting 10,000 keys again.
   */
  constructor(entries: Iterable<Entry>, previous?: Snapshot) {
    const byKey = new Map<string, Entry>();
    for (const given of entries) {
      let placed = placement.get(given);
      if (placed === undefined) {
        let e = given;
        const r = e.resource;
        // An object without kind or name cannot be addressed by anything; sources report it, the snapshot skips it.
        if (!r || typeof r.kind !== 'string' || !r.metadata || typeof r.metadata.name !== 'string') placed = null;
        else {
          if (!CLUSTER_SCOPED.has(r.kind) && !r.metadata.namespace) {
            e = { ...e, resource: { ...r, metadata: { ...r.metadata, namespace: 'default' } } };
          }
          placed = { key: keyOf(e.resource.kind, e.resource.metadata.namespace, e.resource.metadata.name), entry: e };
        }
        placement.set(given, placed);
      }
      if (!placed) continue;
      // A source that wraps an unchanged resource in a new Entry (the Kubernetes source does) gets
      // the previous Entry back: entry identity then means "unchanged" for every consumer (delta).
      const old = previous?.byKey.get(placed.key);
      byKey.set(placed.key, old !== undefined && old.resource === placed.entry.resource && old.origin === placed.entry.origin ? old : placed.entry);
    }
    this.byKey = byKey;
    if (previous) {
      const patched = Snapshot.patched(byKey, previous);
      this.byKind = patched.byKind;
      this.keysByKind = patched.keysByKind;
      this.delta = { from: previous.byKey, keys: patched.changed };
    } else {
      const sorted = Snapshot.sorted(byKey);
      this.byKind = sorted.byKind;
      this.keysByKind = sorted.keysByKind;
    }
  }

  /**
   * Built from a previous snapshot: the keys whose entry differs from it (added, replaced or
   * removed), found while patching the sorted lists. translate/incremental.ts uses it instead of
   * comparing all 12,000 entries again.
   */
  readonly delta?: { from: ReadonlyMap<string, Entry>; keys: readonly string[] };

  private static sorted(byKey: ReadonlyMap<string, Entry>): { byKind: Map<string, readonly Entry[]>; keysByKind: Map<string, readonly string[]> } {
    const byKind = new Map<string, Entry[]>();
    const keysByKind = new Map<string, string[]>();
    for (const k of [...byKey.keys()].sort()) {
      const e = byKey.get(k)!;
      let list = byKind.get(e.resource.kind);
      if (!list) {
        byKind.set(e.resource.kind, (list = []));
        keysByKind.set(e.resource.kind, []);
      }
      list.push(e);
      keysByKind.get(e.resource.kind)!.push(k);
    }
    return { byKind, keysByKind };
  }

  private static patched(
    byKey: ReadonlyMap<string, Entry>,
    previous: Snapshot,
  ): { byKind: Map<string, readonly Entry[]>; keysByKind: Map<string, readonly string[]>; changed: string[] } {
    const added = new Map<string, string[]>();
    const changed: string[] = [];
    for (const [k, e] of byKey) {
      if (previous.byKey.get(k) === e) continue;
      changed.push(k);
      const kind = e.resource.kind;
      let list = added.get(kind);
      if (!list) added.set(kind, (list = []));
      list.push(k);
    }
    const byKind = new Map<string, readonly Entry[]>();
    const keysByKind = new Map<string, readonly string[]>();
    for (const [kind, oldKeys] of previous.keysByKind) {
      const oldEntries = previous.byKind.get(kind)!;
      const fresh = added.get(kind);
      let keys: string[] | undefined;
      // Keys still holding the same entry keep their place; a replaced one is added again below.
      for (let i = 0; i < oldKeys.length; i++) {
        const now = byKey.get(oldKeys[i]!);
        const same = now === oldEntries[i];
        if (now === undefined) changed.push(oldKeys[i]!);
        if (!same && !keys) keys = oldKeys.slice(0, i);
        else if (same && keys) keys.push(oldKeys[i]!);
      }
      if (!keys && !fresh) {
        byKind.set(kind, oldEntries);
        keysByKind.set(kind, oldKeys);
        continue;
      }
      keys ??= [...oldKeys];
      for (const k of fresh ?? []) keys.splice(upperBound(keys, k), 0, k);
      added.delete(kind);
      if (keys.length === 0) continue;
      byKind.set(kind, keys.map((k) => byKey.get(k)!));
      keysByKind.set(kind, keys);
    }
    // Kinds the previous snapshot had none of.
    for (const [kind, keys] of added) {
      keys.sort();
      byKind.set(kind, keys.map((k) => byKey.get(k)!));
      keysByKind.set(kind, keys);
    }
    return { byKind, keysByKind, changed };
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
