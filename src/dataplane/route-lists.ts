// Route lists and route entries as the IR delta carries them (./ir-delta.ts), primary side and
// the worker's rebuild. A virtual host's routes travel as a list of entry ids; a new version of a
// list travels as edits against the list it replaces (found by the virtual host's place, or by a
// list with the same first entry), computed by identity (router/list-diff.ts), so one route added
// to a list of 10,000 sends one hunk and one entry's text, not 10,000 ids. Listeners serving the
// very same entries (an HTTP and an HTTPS listener, or a listener moved to another port) refer to
// one list. Both sides hold the same lists: a list is dropped in the message after which no port
// refers to it. Entries are dropped in sweeps, once enough new ones came since the last sweep
// that the dead could be a sizeable share (so a sweep's cost, all live lists, is amortised).

import type { HTTPRouteEntry } from '../ir/types.js';
import { encodeForEngine } from '../ir/keys.js';
import { alignDiff, applyEdits, diffLists, editsOf, editSize, hunks, sameItems } from './router/list-diff.js';

/** A list on the wire: all its entry ids, or a base list's id and edits: [at, remove, count, ...ids] per hunk, in base positions, ascending. */
export type ListWire = number[] | { b: number; e: number[] };

/** Route entries by content id: equal entry text, same id. */
class EntryIds {
  private byObj = new WeakMap<HTTPRouteEntry, number>();
  private byText = new Map<string, number>();
  readonly text = new Map<number, string>();
  private next = 1;

  idOf(e: HTTPRouteEntry): number {
    let id = this.byObj.get(e);
    if (id !== undefined && this.text.has(id)) return id;
    const text = encodeForEngine(e);
    id = this.byText.get(text);
    if (id === undefined) {
      id = this.next++;
      this.byText.set(text, id);
      this.text.set(id, text);
    }
    this.byObj.set(e, id);
    return id;
  }

  /** Forget every id not in `live`. */
  keep(live: ReadonlySet<number>): void {
    for (const [id, text] of this.text)
      if (!live.has(id)) {
        this.text.delete(id);
        this.byText.delete(text);
      }
  }
}

interface ListRec {
  id: number;
  /** The array this list was made for (identity diffs against the next version). */
  entries: readonly HTTPRouteEntry[];
  ids: number[];
  /** Virtual hosts (in the ports last encoded) whose routes this list is. */
  refs: number;
}

/** Edits are worth sending while they stay under this share of the list (else all ids travel). */
const EDIT_SHARE = 0.5;

export class RouteLists {
  private readonly entryIds = new EntryIds();
  private readonly lists = new Map<number, ListRec>();
  private byArray = new WeakMap<readonly HTTPRouteEntry[], ListRec>();
  private byFirst = new Map<HTTPRouteEntry | undefined, Set<ListRec>>();
  private nextId = 1;
  /** Entry ids the receiver holds. */
  private held = new Set<number>();
  private sinceSweep = 0;
  private droppedSinceSweep = 0;
  // This encode's output.
  private sentLists: string[] = [];
  private sentEntries: string[] = [];
  private edited = 0;
  private unrefd = new Set<ListRec>();

  begin(): void {
    this.sentLists = [];
    this.sentEntries = [];
    this.edited = 0;
    this.unrefd = new Set();
  }

  /** The id of the list `routes` is, made (and queued to send) when no held list has these entries; `before`: the list this virtual host had. */
  listFor(routes: readonly HTTPRouteEntry[], before: number | undefined): number {
    const known = this.byArray.get(routes);
    if (known && this.lists.get(known.id) === known) return known.id;
    const same = this.byFirst.get(routes[0]);
    if (same) {
      // Bounded: a route every virtual host starts with (a catch-all) would make this quadratic.
      let tries = 32;
      for (const c of same) {
        if (sameItems(c.entries, routes)) {
          this.byArray.set(routes, c);
          return c.id;
        }
        if (--tries === 0) break;
      }
    }
    let base = before === undefined ? undefined : this.lists.get(before);
    if (!base && same) for (const c of same) base ??= c;
    return this.make(routes, base).id;
  }

  ref(id: number): void {
    this.lists.get(id)!.refs++;
  }

  unref(id: number): void {
    const rec = this.lists.get(id)!;
    if (--rec.refs === 0) this.unrefd.add(rec);
  }

  /** After the ports were encoded: what to send (lists, entry texts) and what both sides forget. */
  end(): { lists: string[]; entries: string[]; dropLists: number[]; dropEntries: number[]; edited: number } {
    const dropLists: number[] = [];
    for (const rec of this.unrefd) {
      if (rec.refs > 0) continue;
      dropLists.push(rec.id);
      this.lists.delete(rec.id);
      const same = this.byFirst.get(rec.entries[0]);
      same?.delete(rec);
      if (same?.size === 0) this.byFirst.delete(rec.entries[0]);
    }
    this.droppedSinceSweep += dropLists.length;
    let dropEntries: number[] = [];
    // Entries die only with lists: while none went since the last sweep, every held entry is live and
    // a sweep would find nothing. Counting from here keeps the first change after the whole-state
    // encode from paying a sweep of all 10,000 entries for the one its list replaced.
    if (this.droppedSinceSweep === 0) this.sinceSweep = 0;
    else if (this.sinceSweep > 1024 && this.sinceSweep * 4 > this.held.size) dropEntries = this.sweep();
    return { lists: this.sentLists, entries: this.sentEntries, dropLists, dropEntries, edited: this.edited };
  }

  /** Everything held, as a whole-state message carries it. */
  all(): { lists: string[]; entries: string[] } {
    const lists = [...this.lists.values()].map((r) => `"${r.id}":${JSON.stringify(r.ids)}`);
    const entries = [...this.held].map((id) => `"${id}":${this.entryIds.text.get(id)!}`);
    return { lists, entries };
  }

  private make(routes: readonly HTTPRouteEntry[], base: ListRec | undefined): ListRec {
    let ids: number[] | undefined;
    let wire: string | undefined;
    const d = base && diffLists(base.entries, routes);
    if (d) {
      const hs = hunks(d);
      if (editSize(hs) <= routes.length * EDIT_SHARE) {
        const made = alignDiff(d, base.ids, (n) => this.send(routes[n]!));
        ids = made;
        wire = `{"b":${base!.id},"e":${JSON.stringify(editsOf(hs, (n) => made[n]!))}}`;
        this.edited++;
      }
    }
    if (!ids || !wire) {
      ids = routes.map((e) => this.send(e));
      wire = JSON.stringify(ids);
    }
    // New entry objects with the same content as the base's (a translation that shared nothing): the same list.
    if (base && sameItems(ids, base.ids)) {
      this.byArray.set(routes, base);
      if (wire.startsWith('{')) this.edited--;
      return base;
    }
    const id = this.nextId++;
    const rec: ListRec = { id, entries: routes, ids, refs: 0 };
    this.lists.set(id, rec);
    this.byArray.set(routes, rec);
    let same = this.byFirst.get(routes[0]);
    if (!same) this.byFirst.set(routes[0], (same = new Set()));
    same.add(rec);
    this.sentLists.push(`"${id}":${wire}`);
    return rec;
  }

  /** The entry's id; its text is queued to send when the receiver does not hold it. */
  private send(e: HTTPRouteEntry): number {
    const id = this.entryIds.idOf(e);
    if (!this.held.has(id)) {
      this.held.add(id);
      this.sentEntries.push(`"${id}":${this.entryIds.text.get(id)!}`);
      this.sinceSweep++;
    }
    return id;
  }

  /** Entries no held list refers to: forgotten here, and by the receiver with this message. */
  private sweep(): number[] {
    const live = new Set<number>();
    for (const rec of this.lists.values()) for (const id of rec.ids) live.add(id);
    const dropped: number[] = [];
    for (const id of this.held) if (!live.has(id)) dropped.push(id);
    this.held = live;
    this.entryIds.keep(live);
    this.sinceSweep = 0;
    this.droppedSinceSweep = 0;
    return dropped;
  }

  /** The worker's side: the array a list's wire form describes, from the entries and lists it holds; undefined when one is missing. */
  static build(wire: ListWire, entries: ReadonlyMap<number, HTTPRouteEntry>, lists: ReadonlyMap<number, HTTPRouteEntry[]>): HTTPRouteEntry[] | undefined {
    if (Array.isArray(wire)) {
      const out: HTTPRouteEntry[] = [];
      for (const id of wire) {
        const e = entries.get(id);
        if (!e) return undefined;
        out.push(e);
      }
      return out;
    }
    const base = lists.get(wire.b);
    return base && applyEdits(base, wire.e, (id: number) => entries.get(id));
  }
}
