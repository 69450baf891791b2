// One immutable view of every resource Portico knows, by kind/namespace/name.
// Built once per batch of changes; the translator only reads it.

import type { Resource } from '../api/types.js';
import { CLUSTER_SCOPED } from '../api/names.js';
import { VersionedMap } from './versioned-map.js';
import { joinRuns, sortedIndex } from './arrays.js';

/** A resource plus where it came from (a file path in file mode; absent from the API server). */
export interface Entry<R = Resource> {
  readonly resource: R;
  readonly origin?: string;
}

/**
 * The store key of an object. Joined, not concatenated: V8 builds `a + b` from unoptimized code as
 * a chain of pieces (a copy of "HTTPRoute/", then three more parts, ~120 bytes), and keys are
 * kept for as long as their objects; a joined string is one flat copy (~50 bytes).
 */
export function keyOf(kind: string, namespace: string | undefined, name: string): string {
  return CLUSTER_SCOPED.has(kind) ? [kind, name].join('/') : [kind, namespace ?? 'default', name].join('/');
}

/**
 * Each Entry's key (and its entry with the default namespace filled in), computed once: sources
 * hand the same Entry object for an unchanged object, and entries are never modified.
 */
const placement = new WeakMap<Entry, { key: string; entry: Entry } | null>();

/** One kind's entries sorted by store key, the keys alongside; shared by every snapshot the kind did not change in. */
interface KindList {
  readonly keys: readonly string[];
  readonly entries: readonly Entry[];
  /** list()'s answer, made on first use. */
  resources?: readonly Resource[];
}

/** The kind a store key (keyOf) belongs to. */
const kindOfKey = (k: string) => k.slice(0, k.indexOf('/'));

export class Snapshot {
  private readonly byKey: VersionedMap<Entry>;
  private readonly byKind: ReadonlyMap<string, KindList>;

  /**
   * Entries with a missing namespace on a namespaced kind are placed in "default", as kubectl does.
   * A later entry with the same kind/namespace/name replaces an earlier one.
   *
   * `entries` may instead be a VersionedMap of entries by store key whose entries are already
   * placed (the file source keeps one: sources/files.ts): taken as it is, without a pass over it.
   *
   * `previous`: the snapshot before this batch of changes. Only the kinds something changed in
   * are sorted again, and only around what changed. From a VersionedMap that is a later version of
   * `previous`'s, the whole snapshot costs what changed, not what it holds.
   */
  constructor(entries: Iterable<Entry> | VersionedMap<Entry>, previous?: Snapshot) {
    let changed: string[] | undefined;
    if (entries instanceof VersionedMap) {
      this.byKey = entries;
      if (previous) changed = entries.changedSince(previous.byKey) ?? Snapshot.compare(entries, previous.byKey);
    } else {
      const byKey = Snapshot.place(entries, previous);
      this.byKey = VersionedMap.of(byKey);
      if (previous) changed = Snapshot.compare(this.byKey, previous.byKey);
    }
    if (previous && changed) {
      this.byKind = Snapshot.patched(this.byKey, previous, changed);
      this.delta = { from: previous.byKey, keys: changed };
    } else {
      this.byKind = Snapshot.sorted(this.byKey);
    }
  }

  /**
   * Built from a previous snapshot: the keys whose entry differs from it (added, replaced or
   * removed). translate/incremental.ts uses it instead of comparing all 12,000 entries again.
   */
  readonly delta?: { from: ReadonlyMap<string, Entry>; keys: readonly string[] };

  private static place(entries: Iterable<Entry>, previous: Snapshot | undefined): Map<string, Entry> {
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
    return byKey;
  }

  /** The keys whose entry differs between two maps: a pass over `now`, and over `before` only when a key went away. */
  private static compare(now: ReadonlyMap<string, Entry>, before: ReadonlyMap<string, Entry>): string[] {
    const changed: string[] = [];
    let kept = 0;
    for (const [k, e] of now) {
      const old = before.get(k);
      if (old !== undefined) kept++;
      if (old !== e) changed.push(k);
    }
    if (kept < before.size) for (const k of before.keys()) if (!now.has(k)) changed.push(k);
    return changed;
  }

  private static sorted(byKey: ReadonlyMap<string, Entry>): Map<string, KindList> {
    const keysByKind = new Map<string, string[]>();
    for (const k of [...byKey.keys()].sort()) {
      const kind = byKey.get(k)!.resource.kind;
      let keys = keysByKind.get(kind);
      if (!keys) keysByKind.set(kind, (keys = []));
      keys.push(k);
    }
    const byKind = new Map<string, KindList>();
    for (const [kind, keys] of keysByKind) byKind.set(kind, { keys, entries: keys.map((k) => byKey.get(k)!) });
    return byKind;
  }

  /** The previous snapshot's lists, each kind with changes merged with its (sorted) changed keys; the others shared. */
  private static patched(byKey: ReadonlyMap<string, Entry>, previous: Snapshot, changed: readonly string[]): Map<string, KindList> {
    const byKind = new Map(previous.byKind);
    const touched = new Map<string, string[]>();
    for (const k of changed) {
      const kind = kindOfKey(k);
      let list = touched.get(kind);
      if (!list) touched.set(kind, (list = []));
      list.push(k);
    }
    for (const [kind, ch] of touched) {
      ch.sort();
      const old = previous.byKind.get(kind) ?? { keys: [], entries: [] };
      // Runs of unchanged keys are found by binary search, copied by slice and joined (joinRuns): a
      // key-by-key merge walked 10,000 routes per change, in code still cold for the first changes
      // after start-up (2-5 ms each).
      const keyParts: string[][] = [];
      const entryParts: Entry[][] = [];
      let i = 0;
      for (const k of ch) {
        const at = sortedIndex(old.keys, k, i);
        if (at > i) {
          keyParts.push(old.keys.slice(i, at));
          entryParts.push(old.entries.slice(i, at));
        }
        i = at < old.keys.length && old.keys[at] === k ? at + 1 : at;
        const e = byKey.get(k);
        if (e === undefined) continue;
        keyParts.push([k]);
        entryParts.push([e]);
      }
      if (i < old.keys.length) {
        keyParts.push(old.keys.slice(i));
        entryParts.push(old.entries.slice(i));
      }
      const keys = joinRuns(keyParts);
      if (keys.length === 0) byKind.delete(kind);
      else byKind.set(kind, { keys, entries: joinRuns(entryParts) });
    }
    return byKind;
  }

  /** Every resource of a kind, sorted by namespace then name. */
  list<R = Resource>(kind: string): readonly R[] {
    const l = this.byKind.get(kind);
    if (!l) return [];
    l.resources ??= l.entries.map((e) => e.resource);
    return l.resources as readonly R[];
  }

  entries(kind: string): readonly Entry[] {
    return this.byKind.get(kind)?.entries ?? [];
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
