// IR.clusters is a record of ~1,000 keys at 10,000 routes, and V8 keeps such an object in
// dictionary mode: a spread copy of it took 8-10 ms the first time and ~1 ms warm (assigning key
// by key: 0.5 and 0.1). An EndpointSlice change replaces a few clusters, and the translator, the
// config stream's encoder and decoder, the pod's check and its engine each walked the whole record
// for them. patchRecord() makes the new record and remembers which keys it replaced, so those
// steps ask patchedKeys() and touch only those (as list-diff.ts `madeFrom` does for route lists).

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

/** The keys patchRecord() replaced when it made `next` from `base`; undefined when `next` was not made so. */
export function patchedKeys(next: object, base: object | undefined): readonly string[] | undefined {
  const p = base === undefined ? undefined : patches.get(next);
  return p !== undefined && p.base.deref() === base ? p.keys : undefined;
}
