// IR.clusters is a record of ~1,000 keys at 10,000 routes, and V8 keeps such an object in
// dictionary mode: a spread copy of it took 8-10 ms the first time and ~1 ms warm (assigning key
// by key: 0.5 and 0.1). An EndpointSlice change replaces a few clusters, and the translator, the
// config stream's encoder and decoder, the pod's check and its engine each walked the whole record
// for them. patchRecord() makes the new record and remembers which keys it replaced, so those
// steps ask keysBetween() and touch only those (as list-diff.ts `madeFrom` does for route lists).

const patches = new WeakMap<object, { base: WeakRef<object>; keys: readonly string[] }>();

/**
 * `base` with the values of `changes` in place of its own, keys in base's order. Keys of `changes`
 * that `base` lacks are not added: the caller asks only for replacements (undefined then).
 */
export function patchRecord<T>(base: Readonly<Record<string, T>>, changes: ReadonlyMap<string, T>): Record<string, T> | undefined {
  for (const k of changes.keys()) if (!Object.hasOwn(base, k)) return undefined;
  const out: Record<string, T> = {};
  for (const k of Object.keys(base)) out[k] = base[k]!;
  for (const [k, v] of changes) out[k] = v;
  patches.set(out, { base: new WeakRef(base), keys: [...changes.keys()] });
  return out;
}

/**
 * `part`, a record made from some keys of a record since patched into `now` (`keys` replaced),
 * with the same replacements: each replaced key `holds` names gets `now`'s value. `part` itself
 * when none does; undefined as patchRecord() (a key `part` lacks).
 */
export function followPatch<T>(part: Record<string, T>, now: Readonly<Record<string, T>>, keys: Iterable<string>, holds: (key: string) => boolean): Record<string, T> | undefined {
  const changes = new Map<string, T>();
  for (const k of keys) if (holds(k)) changes.set(k, now[k]!);
  return changes.size === 0 ? part : patchRecord(part, changes);
}

/** The keys patchRecord() replaced when it made `next` from `base`; undefined when `next` was not made so. */
export function patchedKeys(next: object, base: object | undefined): readonly string[] | undefined {
  const p = base === undefined ? undefined : patches.get(next);
  return p !== undefined && p.base.deref() === base ? p.keys : undefined;
}

/** The record patchRecord() made `next` from, while it is alive. */
export function patchBase(next: object): object | undefined {
  return patches.get(next)?.base.deref();
}

/** How many patchRecord() steps keysBetween() follows up either side. */
const MAX_STEPS = 8;

/**
 * The keys at which `next` and `prev` may differ when both were made by patchRecord() steps from a
 * common record (each side at most MAX_STEPS away): the keys those steps replaced. Undefined when
 * there is no such record; both then have the same keys. A route change after EndpointSlice changes
 * builds its record from the one before them (translate/ir.ts), not from the last one sent.
 */
export function keysBetween(next: object, prev: object | undefined): readonly string[] | undefined {
  if (prev === undefined) return undefined;
  const direct = patchedKeys(next, prev);
  if (direct) return direct;
  const up = new Map<object, string[]>();
  let acc: string[] = [];
  for (let cur: object | undefined = prev, i = 0; cur !== undefined && i <= MAX_STEPS; i++) {
    up.set(cur, acc);
    const p = patches.get(cur);
    if (!p) break;
    acc = [...acc, ...p.keys];
    cur = p.base.deref();
  }
  acc = [];
  for (let cur: object | undefined = next, i = 0; cur !== undefined && i <= MAX_STEPS; i++) {
    const theirs = up.get(cur);
    if (theirs) return [...new Set([...acc, ...theirs])];
    const p = patches.get(cur);
    if (!p) return undefined;
    acc = [...acc, ...p.keys];
    cur = p.base.deref();
  }
  return undefined;
}
