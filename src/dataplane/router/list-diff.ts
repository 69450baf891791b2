// Two versions of a list compared by element identity: what stays, what was inserted or removed.
// Route lists change by a few entries at a time (one route added, removed or moved by precedence)
// and keep their other entries as the same objects (translate/share.ts, ir-delta.ts), so the
// common ends are skipped by pointer comparison and only the middle is aligned. Used by the IR
// delta (a list's edits) and the compiled matcher (which slots to insert and retire).

import { joinRuns } from '../../store/arrays.js';

export interface ListDiff {
  /** Length of the common head. */
  pre: number;
  /** The middle is old [pre, oldEnd) and new [pre, newEnd); the tails after them are the same. */
  oldEnd: number;
  newEnd: number;
  /** Per new middle position (index - pre): the old position of the same element when it stays, else -1. */
  oldOf: number[];
}

/** The same elements (by identity) in the same order. */
export function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Each list applyEdits() made: its base (held weakly: each version of a list would otherwise keep
 * every version before it), the edits, and their diff once asked. The receiver's router compares
 * the list it compiled with the one a delta made from it, and its checker looks only at what the
 * edits put in (sync/validate.ts): the edits say where the lists differ, so neither walks 10,000
 * entries (the router's walk from both ends ran cold on the first changes after start-up).
 */
const madeBy = new WeakMap<readonly unknown[], { base: WeakRef<readonly unknown[]>; edits: readonly unknown[]; diff?: ListDiff }>();

/** The base applyEdits() made `next` from, while it lives, and the diff from it. */
export function madeFrom<T>(next: readonly T[]): { base: readonly T[]; diff: ListDiff } | undefined {
  const made = madeBy.get(next);
  const base = made?.base.deref() as readonly T[] | undefined;
  if (!made || !base) return undefined;
  return { base, diff: (made.diff ??= diffOfEdits(base.length, made.edits)) };
}

/** The elements of `next` that `d` gives no old position: what came in. */
export function insertedOf<T>(d: ListDiff, next: readonly T[]): T[] {
  const out: T[] = [];
  for (let k = 0; k < d.oldOf.length; k++) if (d.oldOf[k]! < 0) out.push(next[d.pre + k]!);
  return out;
}

/** Undefined when an element appears twice in the old middle (callers then start afresh). */
export function diffLists<T>(prev: readonly T[], next: readonly T[]): ListDiff | undefined {
  const made = madeFrom(next);
  if (made && made.base === prev) return made.diff;
  const short = Math.min(prev.length, next.length);
  let pre = 0;
  while (pre < short && prev[pre] === next[pre]) pre++;
  let suf = 0;
  while (suf < short - pre && prev[prev.length - 1 - suf] === next[next.length - 1 - suf]) suf++;
  const oldEnd = prev.length - suf;
  const newEnd = next.length - suf;
  const oldOf = keptInMiddle(prev, next, pre, oldEnd, newEnd);
  return oldOf && { pre, oldEnd, newEnd, oldOf };
}

/** Edits of a diff: per hunk, [old position, how many old elements go, the new positions that come in]. */
export function hunks(d: ListDiff): { at: number; remove: number; from: number; to: number }[] {
  const out: { at: number; remove: number; from: number; to: number }[] = [];
  let o = d.pre;
  let n = d.pre;
  const close = (oldTo: number, newTo: number) => {
    if (oldTo > o || newTo > n) out.push({ at: o, remove: oldTo - o, from: n, to: newTo });
  };
  for (let k = 0; k < d.oldOf.length; k++) {
    const kept = d.oldOf[k]!;
    if (kept < 0) continue;
    close(kept, d.pre + k);
    o = kept + 1;
    n = d.pre + k + 1;
  }
  close(d.oldEnd, d.newEnd);
  return out;
}

/** How many elements a list's hunks remove and insert together (what sending them as edits costs). */
export function editSize(hs: readonly { remove: number; from: number; to: number }[]): number {
  let size = 0;
  for (const h of hs) size += h.remove + h.to - h.from;
  return size;
}

/** The diff's new list: the old list's element (`old`) where one stays, `fresh(n)` at a new position `n` where one came. */
export function alignDiff<T>(d: ListDiff, old: readonly T[], fresh: (n: number) => T): T[] {
  // The common ends by slice: a list of 10,000 with one insertion copies natively, not per element
  // through a callback (which ran in the interpreter on the first change after start-up).
  const out = old.slice(0, d.pre);
  for (let n = d.pre; n < d.newEnd; n++) {
    const o = d.oldOf[n - d.pre]!;
    out.push(o >= 0 ? old[o]! : fresh(n));
  }
  return d.oldEnd < old.length ? out.concat(old.slice(d.oldEnd)) : out;
}

/**
 * A list's edits as they travel (ir-delta.ts route lists, port-wire.ts virtual hosts): per hunk,
 * [old position, how many go, how many come, ...what comes], in old positions, ascending.
 */
export function editsOf<W>(hs: readonly { at: number; remove: number; from: number; to: number }[], item: (n: number) => W): (number | W)[] {
  const edits: (number | W)[] = [];
  for (const h of hs) {
    edits.push(h.at, h.remove, h.to - h.from);
    for (let n = h.from; n < h.to; n++) edits.push(item(n));
  }
  return edits;
}

/** The receiver's side of editsOf(): `base` with the edits applied, each coming element made by `take`; undefined when they do not fit `base` or `take` fails. */
export function applyEdits<T, W>(base: readonly T[], edits: readonly (number | W)[], take: (w: W) => T | undefined): T[] | undefined {
  // The kept runs are copied by slice and joined (joinRuns): a per-element loop over a
  // 10,000-entry list ran cold in the first deltas after start-up, a few ms each.
  const parts: T[][] = [];
  let cur = 0;
  for (let k = 0; k < edits.length; ) {
    const at = edits[k] as number;
    const remove = edits[k + 1] as number;
    const count = edits[k + 2] as number;
    k += 3;
    if (at < cur || at + remove > base.length) return undefined;
    if (at > cur) parts.push(base.slice(cur, at));
    const added: T[] = [];
    for (let j = 0; j < count; j++) {
      const x = take(edits[k + j] as W);
      if (x === undefined) return undefined;
      added.push(x);
    }
    if (added.length > 0) parts.push(added);
    k += count;
    cur = at + remove;
  }
  if (cur < base.length) parts.push(base.slice(cur));
  const out = joinRuns(parts);
  madeBy.set(out, { base: new WeakRef(base), edits });
  return out;
}

/**
 * The ListDiff of edits (as applyEdits takes them, already checked to fit) against a base of
 * `length`: a moved element counts as removed and inserted, which every caller handles.
 */
function diffOfEdits<W>(length: number, edits: readonly (number | W)[]): ListDiff {
  if (edits.length === 0) return { pre: length, oldEnd: length, newEnd: length, oldOf: [] };
  const pre = edits[0] as number;
  const oldOf: number[] = [];
  let o = pre;
  for (let k = 0; k < edits.length; ) {
    const at = edits[k] as number;
    const remove = edits[k + 1] as number;
    const count = edits[k + 2] as number;
    while (o < at) oldOf.push(o++);
    for (let j = 0; j < count; j++) oldOf.push(-1);
    o = at + remove;
    k += 3 + count;
  }
  return { pre, oldEnd: o, newEnd: pre + oldOf.length, oldOf };
}

/**
 * For the middle of two lists (old [pre, oldEnd), new [pre, newEnd)): per new position, the old
 * position of the same entry when it stays (a longest increasing run of old positions: the fewest
 * edits), else -1. Undefined when an entry appears twice in the old middle.
 */
function keptInMiddle<T>(prev: readonly T[], routes: readonly T[], pre: number, oldEnd: number, newEnd: number): number[] | undefined {
  const out = new Array<number>(newEnd - pre).fill(-1);
  if (oldEnd === pre || newEnd === pre) return out;
  const at = new Map<T, number>();
  for (let o = pre; o < oldEnd; o++) {
    if (at.has(prev[o]!)) return undefined;
    at.set(prev[o]!, o);
  }
  // Longest strictly increasing subsequence of old positions (patience sorting).
  const seq: number[] = [];
  const pos: number[] = [];
  for (let n = pre; n < newEnd; n++) {
    const o = at.get(routes[n]!);
    if (o === undefined) continue;
    at.delete(routes[n]!); // a second occurrence in the new list is an insertion
    seq.push(o);
    pos.push(n);
  }
  const tails: number[] = [];
  const link = new Array<number>(seq.length);
  for (let k = 0; k < seq.length; k++) {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seq[tails[mid]!]! < seq[k]!) lo = mid + 1;
      else hi = mid;
    }
    link[k] = lo > 0 ? tails[lo - 1]! : -1;
    tails[lo] = k;
  }
  for (let k = tails.length ? tails[tails.length - 1]! : -1; k >= 0; k = link[k]!) out[pos[k]! - pre] = seq[k]!;
  return out;
}
