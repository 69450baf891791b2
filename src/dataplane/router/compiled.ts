// The compiled matcher used on the hot path. Per virtual host:
//   exact paths    -> Map<path, slots>
//   path prefixes  -> a trie keyed by path segment, slots on each node
//   everything else (regex paths, no path) -> one residual list
// A lookup probes the map, walks the trie along the request's segments and merges the
// candidate lists in precedence order (by each slot's rank), checking only the non-path
// conditions of the candidates. Its cost depends on the request's path depth and on the routes
// that share that path, not on how many routes the host has.
//
// Updates are proportional to the change (issue 15): a matcher for a new route list is derived
// from the previous one by diffing the two lists by entry identity (unchanged entries are the same
// objects: translate/share.ts, ir-delta.ts) and inserting or retiring only the slots that differ.
// The tables are shared by every matcher of one lineage, so a derived matcher must not disturb
// the one it came from, which keeps serving until the engine swaps configs (and may be kept for
// good by a listener whose routes did not change). Hence versions: each matcher is a view of the
// tables at its version `v`, and a slot is visible to the views in [from, to). Retired slots stay
// in the tables until so many accumulate that the next derive compiles afresh (a new lineage);
// inserted slots get a rank between their neighbours' (fractional), and when no number fits
// between them the next derive compiles afresh too.

import type { HTTPMatch, HTTPRouteEntry } from '../../ir/types.js';
import { compileFullCheck, compileRestCheck, normalizePrefix, type Check, type MatchRequest } from './match.js';
import type { RouteMatcher } from './reference.js';
import { diffLists } from './list-diff.js';
import { joinRuns } from '../../store/arrays.js';
import type { RouteCells } from '../../observability/metrics/dataplane.js';

// What an entry's conditions compile to depends on its match alone: kept while the match object lives.
interface Compiled {
  rest: Check | null;
  full: Check;
  /** PathPrefix: the trie path (normalised prefix split into segments; [] for "/"). */
  segments?: string[];
}
const checksByMatch = new WeakMap<HTTPMatch, Compiled>();

function checksOf(m: HTTPMatch): Compiled {
  let c = checksByMatch.get(m);
  if (!c) {
    c = { rest: compileRestCheck(m), full: compileFullCheck(m) };
    const p = m.path;
    if (p && p.type === 'PathPrefix' && p.value.startsWith('/')) {
      const norm = normalizePrefix(p.value);
      c.segments = norm === '/' ? [] : norm.slice(1).split('/');
    }
    checksByMatch.set(m, c);
  }
  return c;
}

/** One route entry's place in a lineage of tables. */
export class RouteSlot {
  readonly rest: Check | null;
  readonly full: Check;
  /** First version this slot is not visible to (retired then). */
  to = Infinity;
  /** Metrics cells per listener number (tables.ts VHostCells), resolved on first use. */
  cells: RouteCells[][] | null = null;
  constructor(
    readonly entry: HTTPRouteEntry,
    /** Precedence: lower first. Distinct among the slots any one view sees. */
    readonly rank: number,
    /** First version this slot is visible to. */
    readonly from: number,
    c: Compiled,
  ) {
    this.rest = c.rest;
    this.full = c.full;
  }
}

class TrieNode {
  children: Map<string, TrieNode> | null = null;
  entries: RouteSlot[] | null = null;
}

class Tables {
  readonly exact = new Map<string, RouteSlot[]>();
  readonly root = new TrieNode();
  readonly residual: RouteSlot[] = [];
  /** Version of the newest view: only it may be derived from in place. */
  head = 0;
  /** Retired slots still in the lists. */
  retired = 0;

  /** Adds `s` to its list; `append`: ranks arrive in increasing order (a fresh build). */
  add(s: RouteSlot, append: boolean): void {
    const p = s.entry.match.path;
    const segments = checksOf(s.entry.match).segments;
    let list: RouteSlot[];
    if (p && p.type === 'Exact') {
      const l = this.exact.get(p.value);
      // A new list as a literal of one: most paths and prefixes have one route, and a list pushed
      // to from [] keeps room for 16 more (~130 bytes each, 1.3 MB at 10,000 routes).
      if (!l) return void this.exact.set(p.value, [s]);
      list = l;
    } else if (segments) {
      let node = this.root;
      for (const seg of segments) {
        if (!node.children) node.children = new Map();
        let next = node.children.get(seg);
        if (!next) node.children.set(seg, (next = new TrieNode()));
        node = next;
      }
      if (!node.entries) return void (node.entries = [s]);
      list = node.entries;
    } else {
      list = this.residual;
    }
    if (append) {
      list.push(s);
      return;
    }
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.rank < s.rank) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, s);
  }
}

/** Edits within the lists beyond which a derive compiles afresh instead (it would cost about as much). */
const MAX_EDITS = 512;

export class CompiledMatcher implements RouteMatcher {
  /** The entries this matcher serves, in precedence order (the array it was built for). */
  readonly routes: readonly HTTPRouteEntry[];
  /** Entries that are GRPCRoute entries (no-match answers then depend on the content-type). */
  readonly grpc: number;
  /** How this matcher came to be (for tests and logs): compiled from nothing, or derived from another. */
  readonly derived: boolean;
  private readonly t: Tables;
  private readonly v: number;
  /** One per route, in order: what a derive diffs against. */
  private readonly slots: RouteSlot[];
  // Scratch space reused by every lookup (matching is synchronous, so never shared).
  private lists: RouteSlot[][] = [];
  private heads: number[] = [];

  /** `base`: the matcher this one replaces; the new one is derived from it when that is cheaper. */
  constructor(routes: readonly HTTPRouteEntry[], base?: CompiledMatcher) {
    this.routes = routes;
    const d = base ? derive(base, routes) : undefined;
    if (d) {
      this.t = base!.t;
      this.v = d.v;
      this.slots = d.slots;
      this.grpc = d.grpc;
      this.derived = true;
      return;
    }
    this.t = new Tables();
    this.v = 0;
    this.derived = false;
    let grpc = 0;
    this.slots = new Array<RouteSlot>(routes.length);
    for (let i = 0; i < routes.length; i++) {
      const r = routes[i]!;
      const s = new RouteSlot(r, i, 0, checksOf(r.match));
      this.slots[i] = s;
      this.t.add(s, true);
      if (r.grpc) grpc++;
    }
    this.grpc = grpc;
  }

  /** The first slot (precedence order) whose entry matches `req`, null when none. */
  find(req: MatchRequest): RouteSlot | null {
    const v = this.v;
    const lists = this.lists;
    lists.length = 0;
    const path = req.path;
    const ex = this.t.exact.get(path);
    if (ex) lists.push(ex);
    let node: TrieNode | undefined = this.t.root;
    if (node.entries) lists.push(node.entries);
    if (path.charCodeAt(0) === 47) {
      let start = 1;
      while (node && node.children) {
        let end = path.indexOf('/', start);
        if (end < 0) end = path.length;
        node = node.children.get(path.slice(start, end));
        if (!node) break;
        if (node.entries) lists.push(node.entries);
        if (end >= path.length) break;
        start = end + 1;
      }
    }
    const firstResidual = lists.length;
    if (this.t.residual.length) lists.push(this.t.residual);

    if (lists.length === 1) {
      // Common case: one candidate list, no merge needed.
      const l = lists[0]!;
      const residual = firstResidual === 0;
      for (let k = 0; k < l.length; k++) {
        const s = l[k]!;
        if (s.from > v || s.to <= v) continue;
        const c = residual ? s.full : s.rest;
        if (!c || c(req)) return s;
      }
      return null;
    }

    // k-way merge by rank = precedence order.
    const heads = this.heads;
    heads.length = lists.length;
    heads.fill(0);
    for (;;) {
      let best: RouteSlot | null = null;
      let bestList = -1;
      for (let j = 0; j < lists.length; j++) {
        const l = lists[j]!;
        const h = heads[j]!;
        if (h < l.length && (best === null || l[h]!.rank < best.rank)) {
          best = l[h]!;
          bestList = j;
        }
      }
      if (best === null) return null;
      heads[bestList]!++;
      if (best.from > v || best.to <= v) continue;
      const c = bestList >= firstResidual ? best.full : best.rest;
      if (!c || c(req)) return best;
    }
  }

  /** RouteMatcher: the index in `routes` of the entry find() chooses (-1 when none); tests compare it with the reference. */
  match(req: MatchRequest): number {
    const s = this.find(req);
    // The first occurrence: an entry listed twice always matches at its first place.
    return s ? this.routes.indexOf(s.entry) : -1;
  }
}

interface Derived {
  v: number;
  slots: RouteSlot[];
  grpc: number;
}

/**
 * The slots of `routes` as a new version of `base`'s tables, or undefined when compiling afresh is
 * the better (or the only correct) choice: `base` is not the newest view of its tables, the lists
 * differ too much, too many retired slots would stay behind, or no rank fits between two neighbours.
 */
function derive(base: CompiledMatcher, routes: readonly HTTPRouteEntry[]): Derived | undefined {
  const b = base as unknown as { t: Tables; v: number; slots: RouteSlot[]; routes: readonly HTTPRouteEntry[]; grpc: number };
  const t = b.t;
  if (b.v !== t.head) return undefined;
  const prev = b.routes;
  const old = b.slots;
  const diff = diffLists(prev, routes);
  if (!diff) return undefined;
  const { pre, oldEnd, newEnd, oldOf } = diff;
  let keptMid = 0;
  for (const o of oldOf) if (o >= 0) keptMid++;
  const removed = oldEnd - pre - keptMid;
  const inserted = newEnd - pre - keptMid;
  if (removed + inserted > MAX_EDITS) return undefined;
  const live = routes.length;
  if (t.retired + removed > 32 && (t.retired + removed) * 4 > live) return undefined;

  // New slots with their ranks, before anything is touched: a failure here leaves `base` as it was.
  const v = t.head + 1;
  // The common head and tail by slice: a per-slot loop over 10,000 ran cold on a pod's first changes.
  const mid: RouteSlot[] = [];
  /** The slot at new position `n` outside the middle, or one already placed in it. */
  const at = (n: number): RouteSlot => (n < pre ? old[n]! : n < newEnd ? mid[n - pre]! : old[n - newEnd + oldEnd]!);
  const fresh: RouteSlot[] = [];
  let i = pre;
  while (i < newEnd) {
    const o = oldOf[i - pre]!;
    if (o >= 0) {
      mid.push(old[o]!);
      i++;
      continue;
    }
    let j = i;
    while (j < newEnd && oldOf[j - pre]! < 0) j++;
    // Entries i..j-1 are new: ranks strictly between the slot before them and the one after.
    const lo = i > 0 ? at(i - 1).rank : -Infinity;
    const hi = j < routes.length ? (j < newEnd ? old[oldOf[j - pre]!]!.rank : at(j).rank) : Infinity;
    const k = j - i;
    let last = lo;
    for (let n = 0; n < k; n++) {
      const r = lo === -Infinity ? (hi === Infinity ? n : hi - (k - n)) : hi === Infinity ? lo + n + 1 : lo + ((hi - lo) * (n + 1)) / (k + 1);
      if (!(r > last && r < hi)) return undefined;
      last = r;
      const e = routes[i + n]!;
      const s = new RouteSlot(e, r, v, checksOf(e.match));
      mid.push(s);
      fresh.push(s);
    }
    i = j;
  }
  const slots = joinRuns([old.slice(0, pre), mid, old.slice(oldEnd)]);

  let grpc = b.grpc;
  t.head = v;
  if (removed > 0) {
    const kept = new Set<number>();
    for (const o of oldOf) if (o >= 0) kept.add(o);
    for (let o = pre; o < oldEnd; o++) {
      if (kept.has(o)) continue;
      old[o]!.to = v;
      if (prev[o]!.grpc) grpc--;
    }
    t.retired += removed;
  }
  for (const s of fresh) {
    t.add(s, false);
    if (s.entry.grpc) grpc++;
  }
  return { v, slots, grpc };
}
