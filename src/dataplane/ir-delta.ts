// IR deltas between the primary and its node:cluster workers. Sending the whole IR on every
// apply costs an encode in the primary and a decode plus a full rebuild in every worker (at
// 10,000 routes and 100,000 endpoints about 10 MB each time). Instead the primary sends only
// the ports and clusters that differ from what it sent before, plus the order of names; the
// worker keeps its decoded objects for everything else, so an unchanged cluster or port is the
// same object as before and RuntimeConfig reuses what it compiled from it (config.ts).
//
// Parts are compared by their encoded text (ir/keys.ts encodeForEngine, key material
// included), and an object the primary already encoded (same identity: translate/incremental.ts
// shares unchanged clusters; or every property the same value) is not encoded again. Each message names the version it applies
// to; a worker that holds another version (just forked, or replaced) answers "resync" and gets
// the whole state, which the primary assembles from its cached texts without encoding again.
//
// Route entries travel on their own: a port with 10,000 routes in one virtual host would otherwise
// cross whole (megabytes, encoded and decoded again) when one route changes. In a port's text each
// virtual host's `routes` holds entry ids; an entry's text goes only to a worker that does not
// hold that id yet. Ids are by content (equal entry text, same id), so the worker keeps one
// object per unchanged entry across applies and the router reuses what it compiled from it
// (router/tables.ts). Each side forgets the entries no port refers to any more.

import type { Cluster, HTTPRouteEntry, IR, Listener, Port } from '../ir/types.js';
import { decodeForEngine, encodeForEngine } from '../ir/keys.js';

interface Part<T> {
  obj: T;
  text: string;
  /** Ports: the entry ids its text refers to. */
  ids?: number[];
}

/** What a delta message carries (after decodeForEngine). */
interface Delta {
  version: number;
  /** The version this delta applies to; 0: the whole state, applies to anything. */
  base: number;
  /** IR fields other than ports and clusters (none today), always sent whole. */
  rest: Record<string, unknown>;
  ports: string[];
  clusters: string[];
  /** Ports as encoded: each virtual host's `routes` holds entry ids. */
  set: { ports: Record<string, Port>; clusters: Record<string, Cluster> };
  /** Entries the receiver does not hold yet, by id. */
  entries: Record<string, HTTPRouteEntry>;
}

export interface EncodedDelta {
  text: string;
  version: number;
  /** Parts sent (for logs and tests). */
  changedPorts: number;
  changedClusters: number;
}

/** Same own properties (sealed ones included), each the same value: the encoding is the same too. */
function shallowSame(a: object, b: object): boolean {
  const ka = Object.getOwnPropertyNames(a);
  const kb = Object.getOwnPropertyNames(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k] || !Object.hasOwn(b, k)) return false;
  return true;
}

function partsOf<T extends { name: string }>(items: Iterable<T>, prev: Map<string, Part<T>>, changed: string[]): Map<string, Part<T>> {
  const out = new Map<string, Part<T>>();
  for (const obj of items) {
    const old = prev.get(obj.name);
    if (old && old.obj === obj) {
      out.set(obj.name, old);
      continue;
    }
    // A new cluster object around the same endpoints array (translate/backends.ts keeps it
    // while the Service's slices are unchanged): no need to encode it to know.
    if (old && shallowSame(old.obj, obj)) {
      out.set(obj.name, { obj, text: old.text });
      continue;
    }
    const text = encodeForEngine(obj);
    if (old && old.text === text) {
      // Equal content: keep the old text, remember the new object so next time is an identity hit.
      out.set(obj.name, { obj, text: old.text });
      continue;
    }
    out.set(obj.name, { obj, text });
    changed.push(obj.name);
  }
  return out;
}

/** Route entries by content id (see the file comment): the primary's table. */
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

  /** Forget every id not in `held`. */
  keep(held: ReadonlySet<number>): void {
    if (held.size === this.text.size) return;
    for (const [id, text] of this.text)
      if (!held.has(id)) {
        this.text.delete(id);
        this.byText.delete(text);
      }
  }
}

// Marks where a virtual host's id list goes in a port's text: encoding 10,000 ids through
// encodeForEngine's replacer costs more than the rest of the port (see encodePort).
const ROUTES_MARK = `\u0000routes-${Math.random().toString(36).slice(2)}:`;
const MARKED = new RegExp(`"${JSON.stringify(ROUTES_MARK).slice(1, -1).replace(/\\/g, '\\\\')}(\\d+)"`, 'g');

/** A port's text as it travels: every virtual host's routes replaced by entry ids (appended to `ids`). */
function encodePort(port: Port, entries: EntryIds, ids: number[]): string {
  const lists: string[] = [];
  const listeners = port.listeners.map((l): Listener => {
    if (!l.virtualHosts) return l;
    return {
      ...l,
      virtualHosts: l.virtualHosts.map((v) => {
        const own = v.routes.map((r) => entries.idOf(r));
        for (const id of own) ids.push(id);
        lists.push(JSON.stringify(own));
        return { ...v, routes: `${ROUTES_MARK}${lists.length - 1}` as unknown as HTTPRouteEntry[] };
      }),
    };
  });
  return encodeForEngine({ ...port, listeners }).replace(MARKED, (_m, k: string) => lists[Number(k)]!);
}

function portParts(items: readonly Port[], prev: Map<string, Part<Port>>, entries: EntryIds, changed: string[]): Map<string, Part<Port>> {
  const out = new Map<string, Part<Port>>();
  for (const obj of items) {
    const old = prev.get(obj.name);
    if (old && (old.obj === obj || shallowSame(old.obj, obj))) {
      out.set(obj.name, { ...old, obj });
      continue;
    }
    const ids: number[] = [];
    const text = encodePort(obj, entries, ids);
    if (old && old.text === text) {
      out.set(obj.name, { obj, text: old.text, ids: old.ids });
      continue;
    }
    out.set(obj.name, { obj, text, ids });
    changed.push(obj.name);
  }
  return out;
}

/** The primary's side: remembers what it last sent. */
export class DeltaEncoder {
  private ports = new Map<string, Part<Port>>();
  private clusters = new Map<string, Part<Cluster>>();
  private readonly entries = new EntryIds();
  /** Entry ids the receiver holds after the last message. */
  private held = new Set<number>();
  private rest = '{}';
  private version = 0;

  /** The delta from the last encoded IR to `ir`. */
  encode(ir: IR): EncodedDelta {
    const changedPorts: string[] = [];
    const changedClusters: string[] = [];
    const base = this.version;
    const { ports: _p, clusters: _c, ...rest } = ir;
    this.rest = encodeForEngine(rest);
    this.ports = portParts(ir.ports, this.ports, this.entries, changedPorts);
    this.clusters = partsOf(Object.values(ir.clusters), this.clusters, changedClusters);
    const before = this.held;
    this.held = new Set<number>();
    for (const p of this.ports.values()) for (const id of p.ids ?? []) this.held.add(id);
    const sent: number[] = [];
    for (const id of this.held) if (!before.has(id)) sent.push(id);
    this.entries.keep(this.held);
    this.version++;
    return { text: this.message(base, changedPorts, changedClusters, sent), version: this.version, changedPorts: changedPorts.length, changedClusters: changedClusters.length };
  }

  /** The whole last encoded state, for a worker that holds nothing (or something else); undefined before the first encode. */
  full(): string | undefined {
    if (this.version === 0) return undefined;
    return this.message(0, [...this.ports.keys()], [...this.clusters.keys()], [...this.held]);
  }

  private message(base: number, ports: string[], clusters: string[], entries: number[]): string {
    const set = (names: string[], parts: Map<string, Part<{ name: string }>>) => names.map((n) => `${JSON.stringify(n)}:${parts.get(n)!.text}`).join(',');
    return (
      `{"version":${this.version},"base":${base},"rest":${this.rest},"ports":${JSON.stringify([...this.ports.keys()])},"clusters":${JSON.stringify([...this.clusters.keys()])},` +
      `"set":{"ports":{${set(ports, this.ports)}},"clusters":{${set(clusters, this.clusters)}}},` +
      `"entries":{${entries.map((id) => `"${id}":${this.entries.text.get(id)!}`).join(',')}}}`
    );
  }
}

/** The worker's side: the IR it serves, patched by each delta. */
export class DeltaDecoder {
  private ir: IR | undefined;
  private version = 0;
  /** Route entries by id, one object each for as long as some port refers to it. */
  private entries = new Map<number, HTTPRouteEntry>();
  /** Per port, the entry ids its routes came from. */
  private portIds = new Map<string, number[]>();

  /** The IR after `text`, or 'resync' when it applies to a version this side does not hold. */
  apply(text: string): IR | 'resync' {
    const d = decodeForEngine<Delta>(text);
    const prev = d.base === 0 ? undefined : this.ir;
    if (d.base !== 0 && (d.base !== this.version || !prev)) return 'resync';
    const known = (id: number): HTTPRouteEntry | undefined => d.entries?.[id] ?? this.entries.get(id);
    const prevPorts = new Map(prev?.ports.map((p) => [p.name, p]));
    const ports: Port[] = [];
    const portIds = new Map<string, number[]>();
    for (const n of d.ports) {
      const sent = d.set.ports[n];
      if (sent) {
        const ids: number[] = [];
        for (const l of sent.listeners)
          for (const v of l.virtualHosts ?? []) {
            const routes: HTTPRouteEntry[] = [];
            for (const id of v.routes as unknown as number[]) {
              const e = known(id);
              if (!e) return 'resync';
              ids.push(id);
              routes.push(e);
            }
            v.routes = routes;
          }
        ports.push(sent);
        portIds.set(n, ids);
        continue;
      }
      const p = prevPorts.get(n);
      const ids = this.portIds.get(n);
      if (!p || !ids) return 'resync';
      ports.push(p);
      portIds.set(n, ids);
    }
    const clusters: Record<string, Cluster> = {};
    for (const n of d.clusters) {
      const c = d.set.clusters[n] ?? prev?.clusters[n];
      if (!c) return 'resync';
      clusters[n] = c;
    }
    const entries = new Map<number, HTTPRouteEntry>();
    for (const ids of portIds.values()) for (const id of ids) if (!entries.has(id)) entries.set(id, known(id)!);
    this.entries = entries;
    this.portIds = portIds;
    this.ir = { ...d.rest, ports, clusters } as IR;
    this.version = d.version;
    return this.ir;
  }
}
