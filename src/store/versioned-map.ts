// A map with versions, for the store's "every resource by key" at 12,000 objects: a new version
// with a few keys changed costs what changed, not a copy of the map, and every older version
// still reads as it was (translate/incremental.ts compares the snapshot it translated last with
// the new one). The newest version holds the one real Map; making a newer one moves the Map to it
// and leaves behind, in the older version, the values it had for the keys that changed (a
// persistent map by "rerooting", as persistent arrays are done). Reads of the newest version cost
// a Map lookup; reads of an older one walk the versions after it, each holding only its changes.
//
// An older version still held keeps alive every value replaced since it was made (its way to the
// newest version passes them all). So that this stays bounded under endless churn, a line is
// retired once the values it has replaced reach half its size (at least 1,024): the next version
// starts a line of its own from a copy (O(size), once per size/2 changes), and the versions of the
// retired line keep reading it as it was, which no longer grows.

/** What the versions of one line share: how many values they have replaced, and when to retire the line. */
interface Line {
  replaced: number;
  readonly retireAt?: number;
}

export class VersionedMap<V> implements ReadonlyMap<string, V> {
  /** Set on the newest version of its line only. */
  private map: Map<string, V> | undefined;
  /** Otherwise: the version made from this one, and this one's values for the keys that version changed (undefined: absent here). */
  private next: VersionedMap<V> | undefined;
  private undo: Map<string, V | undefined> | undefined;

  private constructor(
    map: Map<string, V>,
    readonly size: number,
    private line: Line,
  ) {
    this.map = map;
  }

  /**
   * A first version holding `map` (which it owns from now on: the caller must not change it).
   * `retireAt`: replaced values after which a line is retired (default: half its size, at least 1,024).
   */
  static of<V>(map: Map<string, V> = new Map(), retireAt?: number): VersionedMap<V> {
    return new VersionedMap(map, map.size, { replaced: 0, retireAt });
  }

  /**
   * A new version: this one with `changes` applied (a value of undefined deletes the key). This
   * version keeps reading as it did. O(changes) when this is the newest version of its line; an
   * older one is copied first (O(size)), branching a line of its own.
   */
  with(changes: Iterable<readonly [string, V | undefined]>): VersionedMap<V> {
    if (!this.map) this.own();
    const map = this.map!;
    const undo = new Map<string, V | undefined>();
    for (const [k, v] of changes) {
      const before = map.get(k);
      if (before === v) continue;
      if (!undo.has(k)) undo.set(k, before);
      if (v === undefined) map.delete(k);
      else map.set(k, v);
    }
    if (undo.size === 0) return this;
    const line = this.line;
    const next = new VersionedMap(map, map.size, line);
    this.map = undefined;
    this.next = next;
    this.undo = undo;
    line.replaced += undo.size;
    // Retired: `next` stays the newest version of this line for good; the caller gets a copy on a new line.
    if (line.replaced > (line.retireAt ?? Math.max(1024, map.size / 2))) return new VersionedMap(new Map(map), map.size, { replaced: 0, retireAt: line.retireAt });
    return next;
  }

  /**
   * The keys whose value differs between `older` and this version, when `older` is an earlier
   * version of the same line (what this one was made from, directly or through others); else
   * undefined. Costs what changed in between.
   */
  changedSince(older: VersionedMap<V>): string[] | undefined {
    if (older === this) return [];
    const seen = new Set<string>();
    for (let v: VersionedMap<V> | undefined = older; v !== this; v = v.next) {
      if (!v || !v.undo) return undefined; // reached the newest version without passing this one
      for (const k of v.undo.keys()) seen.add(k);
    }
    // A key changed and changed back along the way is not a change.
    return [...seen].filter((k) => older.get(k) !== this.get(k));
  }

  get(key: string): V | undefined {
    let v: VersionedMap<V> = this;
    while (!v.map) {
      if (v.undo!.has(key)) return v.undo!.get(key);
      v = v.next!;
    }
    return v.map.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /**
   * Iterating an older version iterates a copy (O(size) each time; it stays in its line, so
   * changedSince still walks through it). Iterators of the newest version read the live Map:
   * finish them before making a newer version.
   */
  entries(): MapIterator<[string, V]> {
    return (this.map ?? this.copy()).entries();
  }

  keys(): MapIterator<string> {
    return (this.map ?? this.copy()).keys();
  }

  values(): MapIterator<V> {
    return (this.map ?? this.copy()).values();
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.map ?? this.copy()) fn.call(thisArg, v, k, this);
  }

  /** This version's Map from now on: the live one when this is the newest, else a copy (a line of its own). */
  private own(): Map<string, V> {
    if (this.map) return this.map;
    const map = this.copy();
    this.map = map;
    this.next = undefined;
    this.undo = undefined;
    this.line = { replaced: 0, retireAt: this.line.retireAt };
    return map;
  }

  /** A copy of what this (older) version holds: the newest Map with the values of the versions in between put back. */
  private copy(): Map<string, V> {
    const path: VersionedMap<V>[] = [];
    let v: VersionedMap<V> = this;
    while (!v.map) {
      path.push(v);
      v = v.next!;
    }
    const map = new Map(v.map);
    // Nearest the newest first, so this version's own values are applied last.
    for (let i = path.length - 1; i >= 0; i--) {
      for (const [k, value] of path[i]!.undo!) {
        if (value === undefined) map.delete(k);
        else map.set(k, value);
      }
    }
    return map;
  }
}
