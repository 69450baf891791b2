// Pure functions that turn "the status the translator wants" plus "the status the API
// server holds" into the status to write. One algorithm for every kind: it walks the
// status tree generically, so GatewayClass, Gateway, every route kind and BackendTLSPolicy
// share it (no per-kind copies).
//
// Rules:
// - lastTransitionTime is stamped by us: kept from the stored condition of the same type
//   (at the same place in the tree) when its status did not change, else `now`.
// - Lists whose items carry a controllerName (route status.parents, policy status.ancestors)
//   are shared with other controllers: only items with our controllerName are replaced or
//   removed, everyone else's stay where they are.
// - A stored condition of a domain-prefixed type ("example.com/Ready") belongs to whoever
//   wrote it: Portico writes only the spec's unprefixed types, so it keeps such a condition
//   as it is (the spec: an implementation must not remove or modify conditions it is not
//   responsible for; v1.7.0's GatewayPreserveForeignConditions).

type Json = unknown;
type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Identity of a list item among its siblings, so stored and desired items can be paired. */
function identity(item: unknown): string | undefined {
  if (!isObj(item)) return undefined;
  if (isObj(item.parentRef)) return `parent:${canonical(refDefaults(item.parentRef))}|${String(item.controllerName ?? '')}`;
  if (isObj(item.ancestorRef)) return `ancestor:${canonical(refDefaults(item.ancestorRef))}|${String(item.controllerName ?? '')}`;
  if (typeof item.type === 'string' && 'status' in item) return `condition:${item.type}`;
  if (typeof item.name === 'string') return `name:${item.name}`;
  return undefined;
}

/** The API server defaults parentRef group/kind; compare refs as if both sides had them. */
function refDefaults(ref: Obj): Obj {
  return { group: 'gateway.networking.k8s.io', kind: 'Gateway', ...ref };
}

function isCondition(v: unknown): v is Obj & { type: string; status: string } {
  return isObj(v) && typeof v.type === 'string' && typeof v.status === 'string' && 'reason' in v;
}

export function mergeStatus(current: Json, desired: Json, controllerName: string, now: string): Json {
  return mergeValue(current, desired, controllerName, now);
}

function mergeValue(cur: Json, want: Json, ctl: string, now: string): Json {
  if (Array.isArray(want)) return mergeList(Array.isArray(cur) ? cur : [], want, ctl, now);
  if (isObj(want)) {
    const c = isObj(cur) ? cur : {};
    const out: Obj = {};
    for (const [k, v] of Object.entries(want)) {
      if (v === undefined) continue;
      out[k] = mergeValue(c[k], v, ctl, now);
    }
    if (isCondition(out)) {
      const keep = isObj(cur) && cur.status === out.status && typeof cur.lastTransitionTime === 'string';
      out.lastTransitionTime = keep ? cur.lastTransitionTime : (want as Obj).lastTransitionTime ?? now;
    }
    return out;
  }
  return want;
}

function mergeList(cur: unknown[], want: unknown[], ctl: string, now: string): unknown[] {
  const shared = want.some((w) => isObj(w) && typeof w.controllerName === 'string') ||
    cur.some((c) => isObj(c) && typeof c.controllerName === 'string');
  const curById = new Map<string, unknown>();
  for (const c of cur) {
    const id = identity(c);
    if (id !== undefined && !curById.has(id)) curById.set(id, c);
  }
  const merged = want.map((w) => {
    const id = identity(w);
    return { id, value: mergeValue(id !== undefined ? curById.get(id) : undefined, w, ctl, now) };
  });
  if (!shared) {
    const wanted = new Set(merged.map((m) => m.id));
    const foreign = cur.filter((c) => isCondition(c) && c.type.includes('/') && !wanted.has(identity(c)));
    return [...merged.map((m) => m.value), ...foreign];
  }

  // Shared list: walk the stored order, keep others' items, replace or drop ours, then
  // append our new ones, so writing never reorders (and never touches) another controller's entry.
  const byId = new Map(merged.filter((m) => m.id !== undefined).map((m) => [m.id!, m.value]));
  const placed = new Set<string>();
  const out: unknown[] = [];
  for (const c of cur) {
    const ours = isObj(c) && c.controllerName === ctl;
    if (!ours) {
      out.push(c);
      continue;
    }
    const id = identity(c);
    if (id !== undefined && byId.has(id) && !placed.has(id)) {
      out.push(byId.get(id));
      placed.add(id);
    }
  }
  for (const m of merged) {
    if (m.id === undefined || !placed.has(m.id)) out.push(m.value);
  }
  return out;
}

/**
 * The status to write when the translator no longer has anything to say about an object
 * (a route detached from all our Gateways): our entries removed from shared lists, the rest
 * left as is. Undefined when nothing of ours is there.
 */
export function withoutOurEntries(current: Json, ctl: string): Json | undefined {
  if (!isObj(current)) return undefined;
  let changed = false;
  const out: Obj = {};
  for (const [k, v] of Object.entries(current)) {
    if (Array.isArray(v) && v.some((i) => isObj(i) && i.controllerName === ctl)) {
      out[k] = v.filter((i) => !(isObj(i) && i.controllerName === ctl));
      changed = true;
    } else {
      out[k] = v;
    }
  }
  return changed ? out : undefined;
}

/** Stable serialisation: keys sorted, undefined dropped. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export function statusEqual(a: Json, b: Json): boolean {
  return canonical(a ?? {}) === canonical(b ?? {});
}
