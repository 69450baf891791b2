// Structural sharing between two translations. After a change that needed a full translate(),
// most of the new result equals the previous one (one route of 10,000 changed), but every object
// in it is new, so everything downstream (the IR delta to the workers, their routers, the status
// summary) would redo its work for all of it. shareUnchanged() hands back the new result with
// every part that deep-equals its counterpart in the previous result replaced by that previous
// object: route entries matched by their source, virtual hosts by hostname, listeners and ports
// by name, clusters by name, statuses by object; a container whose parts are all shared is itself
// the previous object. Only equal values are swapped, so the result stays deep-equal to the full
// translate() (test/translate/incremental.test.ts checks it); sealed key material (ir/keys.ts)
// is compared too, so a rotated key is never hidden behind an old object.

import type { Cluster, HTTPRouteEntry, IR, Listener, Port, RouteSource, VirtualHost } from '../ir/types.js';
import { sameClustersAs } from '../ir/listener-clusters.js';
import { keysBetween, patchRecord } from '../ir/record-patch.js';
import type { ObjectStatus, TranslateResult } from './types.js';

/**
 * Deep equality of plain data: arrays, and objects by their enumerable properties plus the two
 * sealed ones (ir/keys.ts keyPem, sessionKey), which enumeration does not show.
 */
export function deepSame(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepSame(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    if (!Object.hasOwn(y, k) || !deepSame(x[k], y[k])) return false;
    n++;
  }
  for (const _ in y) n--;
  return n === 0 && x.keyPem === y.keyPem && x.sessionKey === y.sessionKey;
}

const sameSource = (a: RouteSource, b: RouteSource): boolean =>
  a.name === b.name && a.rule === b.rule && a.match === b.match && a.namespace === b.namespace && a.kind === b.kind;
const sourceKey = (s: RouteSource): string => `${s.kind}/${s.namespace}/${s.name}/${s.rule}/${s.match ?? ''}`;

/**
 * `next` with its elements replaced by the previous ones they equal; the previous list itself
 * when all are. Counterparts are found walking both lists in step (an insertion or removal only
 * shifts them), by key when the walk loses its place.
 */
function shareList<T extends object>(
  prev: readonly T[] | undefined,
  next: T[],
  sameKey: (a: T, b: T) => boolean,
  key: (t: T) => string,
  one: (p: T, n: T) => T,
): T[] {
  if (!prev) return next;
  // The same objects at both ends (a splice rebuilt a list of 10,000 around one change) need no
  // comparing: walk only what lies between them.
  const short = Math.min(prev.length, next.length);
  let pre = 0;
  while (pre < short && prev[pre] === next[pre]) pre++;
  if (pre === short && prev.length === next.length) return prev as T[];
  let suf = 0;
  while (suf < short - pre && prev[prev.length - 1 - suf] === next[next.length - 1 - suf]) suf++;
  if (pre > 0 || suf > 0) {
    const head = prev.slice(pre, prev.length - suf);
    const middle = walkList(head, next.slice(pre, next.length - suf), sameKey, key, one);
    if (middle === head && prev.length === next.length) return prev as T[];
    // A route added to a list of 10,000 keeps its own entry: `next` is already the answer. Else the
    // ends by slice and concat: spreading three parts into a literal walked 10,000 entries through
    // the iterator, 0.3-4 ms per list on the first change after start-up (three lists per change).
    if (middle.every((m, i) => m === next[pre + i])) return next;
    return next.slice(0, pre).concat(middle, next.slice(next.length - suf));
  }
  return walkList(prev, next, sameKey, key, one);
}

function walkList<T extends object>(prev: readonly T[], next: T[], sameKey: (a: T, b: T) => boolean, key: (t: T) => string, one: (p: T, n: T) => T): T[] {
  let byKey: Map<string, number> | undefined;
  let j = 0;
  let all = prev.length === next.length;
  const out = new Array<T>(next.length);
  for (let i = 0; i < next.length; i++) {
    const n = next[i]!;
    let p: T | undefined;
    if (j < prev.length && sameKey(prev[j]!, n)) p = prev[j++];
    else if (j + 1 < prev.length && sameKey(prev[j + 1]!, n)) {
      p = prev[j + 1]; // prev[j] was removed
      j += 2;
    } else if (j >= prev.length || (i + 1 < next.length && sameKey(prev[j]!, next[i + 1]!))) {
      // n was inserted (or added at the end): no counterpart, and the walk stays where it is
    } else {
      if (!byKey) {
        byKey = new Map();
        for (let k = 0; k < prev.length; k++) byKey.set(key(prev[k]!), k);
      }
      const at = byKey.get(key(n));
      if (at !== undefined) {
        p = prev[at];
        j = at + 1;
      }
    }
    const s = p === undefined ? n : one(p, n);
    if (s !== prev[i]) all = false;
    out[i] = s;
  }
  return all ? (prev as T[]) : out;
}

// One entry object serves every listener its route attaches to: compare it once per call.
let entryMemo = new Map<HTTPRouteEntry, HTTPRouteEntry>();
function entryOf(p: HTTPRouteEntry, n: HTTPRouteEntry): HTTPRouteEntry {
  if (p === n) return p;
  let s = entryMemo.get(n);
  if (s === undefined || (s !== n && s !== p)) {
    s = deepSame(p, n) ? p : n;
    entryMemo.set(n, s);
  }
  return s;
}

/** `next` with the given fields taken from `shared`; `prev` when every field then is the same value. */
function withFields<T extends object>(prev: T, next: T, shared: Partial<T>): T {
  const merged = { ...next, ...shared } as T;
  return deepSame(prev, merged) ? prev : merged;
}

function shareVHost(p: VirtualHost, n: VirtualHost): VirtualHost {
  if (p === n) return p;
  const routes = shareList(p.routes, n.routes, (a, b) => a === b || sameSource(a.source, b.source), (r) => sourceKey(r.source), entryOf);
  const out = withFields(p, n, { routes });
  if (out !== p) sameClustersAs(n, out);
  return out;
}

function shareListener(p: Listener, n: Listener): Listener {
  if (p === n) return p;
  const shared: Partial<Listener> = {};
  if (n.virtualHosts) shared.virtualHosts = shareList(p.virtualHosts, n.virtualHosts, (a, b) => a.hostname === b.hostname, (v) => v.hostname, shareVHost);
  if (n.tls && p.tls && deepSame(p.tls, n.tls)) shared.tls = p.tls;
  if (n.tlsRoutes && p.tlsRoutes && deepSame(p.tlsRoutes, n.tlsRoutes)) shared.tlsRoutes = p.tlsRoutes;
  if (n.l4Route && p.l4Route && deepSame(p.l4Route, n.l4Route)) shared.l4Route = p.l4Route;
  const out = withFields(p, n, shared);
  if (out !== p) sameClustersAs(n, out);
  return out;
}

function sharePort(p: Port, n: Port): Port {
  if (p === n) return p;
  return withFields(p, n, { listeners: shareList(p.listeners, n.listeners, (a, b) => a.name === b.name, (l) => l.name, shareListener) });
}

/** `entries`, when given, receives each new route entry -> the object the result holds for it. */
export function shareIR(prev: IR, next: IR, entries: Map<HTTPRouteEntry, HTTPRouteEntry> = new Map()): IR {
  entryMemo = entries;
  const ports = shareList(prev.ports, next.ports, (a, b) => a.name === b.name, (p) => p.name, sharePort);
  entryMemo = new Map();
  if (next.clusters === prev.clusters) return ports === prev.ports && Object.keys(next).length === 2 ? prev : { ...next, ports };
  const sharedClusters = shareClusters(prev.clusters, next.clusters);
  if (ports === prev.ports && sharedClusters === prev.clusters && Object.keys(next).length === 2) return prev;
  return { ...next, ports, clusters: sharedClusters };
}

/** `next`, or `prev` when every cluster is equal, each equal cluster `prev`'s object. */
function shareClusters(prev: IR['clusters'], next: IR['clusters']): IR['clusters'] {
  // Both made from one record by replacing a few clusters (EndpointSlice changes, ir.ts): only those can differ.
  const between = keysBetween(next, prev);
  if (between) {
    const changes = new Map<string, Cluster>();
    for (const k of between) if (!deepSame(prev[k], next[k])) changes.set(k, next[k]!);
    return changes.size === 0 ? prev : patchRecord(prev, changes)!;
  }
  let allClusters = Object.keys(prev).length === Object.keys(next).length;
  const clusters: Record<string, Cluster> = {};
  for (const [name, c] of Object.entries(next)) {
    const p = prev[name];
    const s = p !== undefined && deepSame(p, c) ? p : c;
    if (s !== p) allClusters = false;
    clusters[name] = s;
  }
  return allClusters ? prev : clusters;
}

const statusKey = (s: ObjectStatus): string => `${s.kind}/${s.namespace ?? ''}/${s.name}`;

/** The new result, sharing every part equal to the previous result's (see the file comment). */
export function shareUnchanged(prev: TranslateResult, next: TranslateResult, entries?: Map<HTTPRouteEntry, HTTPRouteEntry>): TranslateResult {
  const ir = shareIR(prev.ir, next.ir, entries);
  const statuses = shareList(prev.statuses, next.statuses, (a, b) => a.name === b.name && a.namespace === b.namespace && a.kind === b.kind, statusKey, (p, n) => (deepSame(p, n) ? p : n));
  const references = prev.references && next.references && deepSame(prev.references, next.references) ? prev.references : next.references;
  return { ...next, ir, statuses, ...(next.references !== undefined ? { references } : {}) };
}
