// The compiled matcher used on the hot path. Per virtual host, built once per apply:
//   exact paths    -> Map<path, entry indexes>
//   path prefixes  -> a trie keyed by path segment, entry indexes on each node
//   everything else (regex paths, no path) -> one residual list
// A lookup probes the map, walks the trie along the request's segments and merges the
// candidate lists in precedence order, checking only the non-path conditions of the
// candidates. Its cost depends on the request's path depth and on the routes that share
// that path, not on how many routes the host has.

import type { HTTPMatch, HTTPRouteEntry } from '../../ir/types.js';
import { compileFullCheck, compileRestCheck, normalizePrefix, type Check, type MatchRequest } from './match.js';
import type { RouteMatcher } from './reference.js';

// What an entry's conditions compile to depends on its match alone: kept while the match object
// lives (ir-delta.ts keeps the objects of unchanged entries), so a virtual host rebuilt for one
// changed route compiles one route's conditions, not all of them.
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

class TrieNode {
  children: Map<string, TrieNode> | null = null;
  entries: number[] | null = null;
}

export class CompiledMatcher implements RouteMatcher {
  private exact = new Map<string, number[]>();
  private root = new TrieNode();
  private residual: number[] = [];
  private rest: (Check | null)[];
  private full: Check[];
  // Scratch space reused by every lookup (matching is synchronous, so never shared).
  private lists: number[][] = [];
  private heads: number[] = [];

  constructor(routes: HTTPRouteEntry[]) {
    const checks = routes.map((r) => checksOf(r.match));
    this.rest = checks.map((c) => c.rest);
    this.full = checks.map((c) => c.full);
    routes.forEach((r, i) => {
      const p = r.match.path;
      const segments = checks[i]!.segments;
      if (p && p.type === 'Exact') {
        let l = this.exact.get(p.value);
        if (!l) this.exact.set(p.value, (l = []));
        l.push(i);
      } else if (segments) {
        let node = this.root;
        for (const seg of segments) {
          if (!node.children) node.children = new Map();
          let next = node.children.get(seg);
          if (!next) node.children.set(seg, (next = new TrieNode()));
          node = next;
        }
        (node.entries ??= []).push(i);
      } else {
        this.residual.push(i);
      }
    });
  }

  match(req: MatchRequest): number {
    const lists = this.lists;
    lists.length = 0;
    const path = req.path;
    const ex = this.exact.get(path);
    if (ex) lists.push(ex);
    let node: TrieNode | undefined = this.root;
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
    if (this.residual.length) lists.push(this.residual);

    if (lists.length === 1) {
      // Common case: one candidate list, no merge needed.
      const l = lists[0]!;
      const check = firstResidual === 0 ? this.full : null;
      for (let k = 0; k < l.length; k++) {
        const i = l[k]!;
        const c = check ? check[i]! : this.rest[i];
        if (!c || c(req)) return i;
      }
      return -1;
    }

    // k-way merge by entry index = precedence order.
    const heads = this.heads;
    heads.length = lists.length;
    heads.fill(0);
    for (;;) {
      let best = -1;
      let bestList = -1;
      for (let j = 0; j < lists.length; j++) {
        const l = lists[j]!;
        const h = heads[j]!;
        if (h < l.length && (best < 0 || l[h]! < best)) {
          best = l[h]!;
          bestList = j;
        }
      }
      if (best < 0) return -1;
      heads[bestList]!++;
      const c = bestList >= firstResidual ? this.full[best]! : this.rest[best];
      if (!c || c(req)) return best;
    }
  }
}
