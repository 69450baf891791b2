// IR deltas between the primary and its node:cluster workers. Sending the whole IR on every
// apply costs an encode in the primary and a decode plus a full rebuild in every worker (at
// 10,000 routes and 100,000 endpoints about 10 MB each time). Instead the primary sends only
// the ports and clusters that differ from what it sent before, plus the order of names; the
// worker keeps its decoded objects for everything else, so an unchanged cluster or port is the
// same object as before and RuntimeConfig reuses what it compiled from it (config.ts).
//
// Parts are compared by their encoded text (ir/keys.ts encodeForEngine, key material
// included), and an object the primary already encoded (same identity: translate/incremental.ts
// shares unchanged clusters; or every property the same value) is not encoded again. Each message
// names the version it applies to; a worker that holds another version (just forked, or replaced)
// answers "resync" and gets the whole state, which the primary assembles from what it holds
// without encoding again.
//
// Route lists and route entries travel on their own, so what crosses is proportional to the
// change (issue 15): a port with 10,000 routes in one virtual host would otherwise cross whole when
// one route changes. In a port's text each virtual host's `routes` is a list id. A list is sent
// once, then each new version of it as edits against the list it replaces (./route-lists.ts);
// listeners (and ports) serving the very same entries refer to one list, and the worker hands
// them one array, so it compiles one matcher (router/tables.ts Matchers). A list's elements are
// entry ids, by content (equal entry text, same id); an entry's text goes only to a worker that
// does not hold that id yet, so the worker keeps one object per unchanged entry across applies and
// its matcher is derived by identity (router/compiled.ts). Lists no port refers to are dropped on
// both sides in the same message; entries no list refers to, every so often (route-lists.ts).

import type { Cluster, HTTPRouteEntry, IR, Listener, Port } from '../ir/types.js';
import { decodeForEngine, encodeForEngine } from '../ir/keys.js';
import { keysBetween, patchRecord } from '../ir/record-patch.js';
import { RouteLists, type ListWire } from './route-lists.js';
import { applyPortPatch, encodePort, listenersSent, portText, type PortPart, type PortPatch } from './port-wire.js';

interface Part<T> {
  obj: T;
  text: string;
}

/** What a delta message carries (after decodeForEngine). */
interface Delta {
  version: number;
  /** The version this delta applies to; 0: the whole state, applies to anything. */
  base: number;
  /** IR fields other than ports and clusters (none today), always sent whole. */
  rest: Record<string, unknown>;
  /** Names in order; null: the same as in the version this applies to (1,000 cluster names are 20 kB). */
  ports: string[] | null;
  clusters: string[] | null;
  /** Ports as encoded: each virtual host's `routes` is a list id. */
  set: { ports: Record<string, Port>; clusters: Record<string, Cluster> };
  /** Ports as patches of the version the receiver holds (./port-wire.ts). */
  patch: Record<string, PortPatch>;
  /** Entries the receiver does not hold yet, by id. */
  entries: Record<string, HTTPRouteEntry>;
  /** New lists, by id: all their entry ids, or edits against a list the receiver holds. */
  lists: Record<string, ListWire>;
  /** Lists and entries to forget once this message is applied. */
  dropLists: number[];
  dropEntries: number[];
}

export interface EncodedDelta {
  text: string;
  version: number;
  /** Parts sent (for logs and tests). */
  changedPorts: number;
  /** Of those, the ports sent as patches of what the receiver holds (./port-wire.ts). */
  patchedPorts: number;
  changedClusters: number;
  /** Route lists sent, and how many of them as edits. */
  sentLists: number;
  editedLists: number;
  /** Entries both sides forget with this message (a sweep). */
  droppedEntries: number;
  /** Nothing differs from the last encode: the message changes nothing, and its version is the last one (no new version). */
  empty: boolean;
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
  for (const obj of items) out.set(obj.name, partOf(obj, prev.get(obj.name), changed));
  return out;
}

/** `obj`'s part, `old`'s text when the encoding is the same; its name is added to `changed` when not. */
function partOf<T extends { name: string }>(obj: T, old: Part<T> | undefined, changed: string[]): Part<T> {
  if (old && old.obj === obj) return old;
  // A new cluster object around the same endpoints array (translate/backends.ts keeps it
  // while the Service's slices are unchanged): no need to encode it to know.
  if (old && shallowSame(old.obj, obj)) return { obj, text: old.text };
  const text = encodeForEngine(obj);
  // Equal content: keep the old text, remember the new object so next time is an identity hit.
  if (old && old.text === text) return { obj, text: old.text };
  changed.push(obj.name);
  return { obj, text };
}

/** The names of `parts` in order; `prev` itself when they are the same. */
function names(parts: Map<string, unknown>, prev: string[]): string[] {
  if (parts.size !== prev.length) return [...parts.keys()];
  let i = 0;
  for (const k of parts.keys()) if (k !== prev[i++]) return [...parts.keys()];
  return prev;
}

function portParts(items: readonly Port[], prev: Map<string, PortPart>, routeLists: RouteLists, changed: Map<string, { text: string; patch: boolean }>): Map<string, PortPart> {
  const out = new Map<string, PortPart>();
  const sent = listenersSent(prev);
  for (const obj of items) {
    const old = prev.get(obj.name);
    if (old && (old.obj === obj || shallowSame(old.obj, obj))) {
      out.set(obj.name, { ...old, obj });
      continue;
    }
    const { part, wire, patch } = encodePort(obj, old, routeLists, sent);
    out.set(obj.name, part);
    if (wire !== undefined) changed.set(obj.name, { text: wire, patch });
  }
  for (const [name, old] of prev) if (!out.has(name)) for (const l of old.listeners) for (const id of l.ids) routeLists.unref(id);
  return out;
}

/** The primary's side: remembers what it last sent. */
export class DeltaEncoder {
  private ports = new Map<string, PortPart>();
  private clusters = new Map<string, Part<Cluster>>();
  private readonly lists = new RouteLists();
  private rest = '{}';
  private version = 0;
  private portNames: string[] = [];
  private clusterNames: string[] = [];
  /** The clusters record `clusters` was made from: a route change's IR keeps it (translate/share.ts), and its 1,000 clusters need no second look. */
  private clustersFrom: IR['clusters'] | undefined;

  /** The delta from the last encoded IR to `ir`. */
  encode(ir: IR): EncodedDelta {
    const changedPorts = new Map<string, { text: string; patch: boolean }>();
    const changedClusters: string[] = [];
    const base = this.version;
    const { ports: _p, clusters: _c, ...rest } = ir;
    const restBefore = this.rest;
    this.rest = encodeForEngine(rest);
    this.lists.begin();
    this.ports = portParts(ir.ports, this.ports, this.lists, changedPorts);
    const sameRecord = ir.clusters === this.clustersFrom;
    // An EndpointSlice change's record (ir/record-patch.ts): the same names, a few clusters replaced.
    const patched = sameRecord ? undefined : keysBetween(ir.clusters, this.clustersFrom);
    if (patched) {
      this.clusters = new Map(this.clusters);
      for (const k of patched) this.clusters.set(k, partOf(ir.clusters[k]!, this.clusters.get(k), changedClusters));
    } else if (!sameRecord) this.clusters = partsOf(Object.values(ir.clusters), this.clusters, changedClusters);
    this.clustersFrom = ir.clusters;
    const sent = this.lists.end();
    this.version++;
    const portNames = names(this.ports, this.portNames);
    const clusterNames = sameRecord || patched ? this.clusterNames : names(this.clusters, this.clusterNames);
    // The first message names them even when there are none: "the same as before" means nothing to a receiver that holds nothing.
    const samePorts = base > 0 && portNames === this.portNames;
    const sameClusters = base > 0 && clusterNames === this.clusterNames;
    this.portNames = portNames;
    this.clusterNames = clusterNames;
    const empty =
      base > 0 && changedPorts.size === 0 && changedClusters.length === 0 && samePorts && sameClusters && this.rest === restBefore &&
      sent.lists.length === 0 && sent.entries.length === 0 && sent.dropLists.length === 0 && sent.dropEntries.length === 0;
    // The receivers hold all of it already: no new version (the config stream sends nothing then, src/sync/server.ts).
    if (empty) this.version = base;
    const text = this.message(base, changedPorts, changedClusters, sent.lists, sent.entries, sent.dropLists, sent.dropEntries, samePorts, sameClusters);
    return { empty, text, version: this.version, changedPorts: changedPorts.size, patchedPorts: [...changedPorts.values()].filter((w) => w.patch).length, changedClusters: changedClusters.length, sentLists: sent.lists.length, editedLists: sent.edited, droppedEntries: sent.dropEntries.length };
  }

  /** The whole last encoded state, for a worker that holds nothing (or something else); undefined before the first encode. */
  full(): string | undefined {
    if (this.version === 0) return undefined;
    const all = this.lists.all();
    const ports = new Map([...this.ports].map(([n, p]) => [n, { text: portText(p), patch: false }]));
    return this.message(0, ports, [...this.clusters.keys()], all.lists, all.entries, [], [], false, false);
  }

  private message(
    base: number,
    ports: Map<string, { text: string; patch: boolean }>,
    clusters: string[],
    lists: string[],
    entries: string[],
    dropLists: number[],
    dropEntries: number[],
    samePorts: boolean,
    sameClusters: boolean,
  ): string {
    const set = (names: string[], parts: Map<string, Part<{ name: string }>>) => names.map((n) => `${JSON.stringify(n)}:${parts.get(n)!.text}`).join(',');
    const portsOf = (patch: boolean) => [...ports].flatMap(([n, w]) => (w.patch === patch ? [`${JSON.stringify(n)}:${w.text}`] : [])).join(',');
    return (
      `{"version":${this.version},"base":${base},"rest":${this.rest},"ports":${samePorts ? 'null' : JSON.stringify(this.portNames)},"clusters":${sameClusters ? 'null' : JSON.stringify(this.clusterNames)},` +
      `"set":{"ports":{${portsOf(false)}},"clusters":{${set(clusters, this.clusters)}}},"patch":{${portsOf(true)}},` +
      `"entries":{${entries.join(',')}},"lists":{${lists.join(',')}},"dropLists":${JSON.stringify(dropLists)},"dropEntries":${JSON.stringify(dropEntries)}}`
    );
  }
}

/** The worker's side: the IR it serves, patched by each delta. */
export class DeltaDecoder {
  private ir: IR | undefined;
  private version = 0;
  /** Route entries by id, one object each for as long as the primary says the worker holds it. */
  private entries = new Map<number, HTTPRouteEntry>();
  /** Route lists by id: one array each, handed to every virtual host whose routes it is. */
  private lists = new Map<number, HTTPRouteEntry[]>();

  /** The IR after `text`, or 'resync' when it applies to a version this side does not hold. */
  apply(text: string): IR | 'resync' {
    return this.applyDecoded(decodeForEngine<Delta>(text));
  }

  /** apply() of a message already decoded (by decodeForEngine: keys sealed), as the config stream's frames are (src/sync/). */
  applyDecoded(message: object): IR | 'resync' {
    const d = message as Delta;
    if (typeof d.version !== 'number' || typeof d.base !== 'number' || typeof d.set !== 'object' || d.set === null) return 'resync';
    const prev = d.base === 0 ? undefined : this.ir;
    if (d.base !== 0 && (d.base !== this.version || !prev)) return 'resync';
    // From here on a failure leaves this side holding something the primary does not know:
    // it forgets everything, so the next delta asks for the whole state.
    const ir = this.patch(d, prev);
    if (ir === 'resync') {
      this.ir = undefined;
      this.version = 0;
      this.entries = new Map();
      this.lists = new Map();
      return ir;
    }
    this.ir = ir;
    this.version = d.version;
    return ir;
  }

  private patch(d: Delta, prev: IR | undefined): IR | 'resync' {
    if (!prev) {
      this.entries = new Map();
      this.lists = new Map();
    }
    for (const id in d.entries) this.entries.set(Number(id), d.entries[id]!);
    // Integer keys iterate in ascending order: a list made from another list of the same message comes after it.
    for (const id in d.lists) {
      const routes = RouteLists.build(d.lists[id]!, this.entries, this.lists);
      if (!routes) return 'resync';
      this.lists.set(Number(id), routes);
    }
    const ports: Port[] = [];
    if (d.ports === null && !prev) return 'resync';
    const prevPorts = new Map(prev?.ports.map((p) => [p.name, p]));
    for (const n of d.ports ?? prev!.ports.map((p) => p.name)) {
      const patched = d.patch?.[n];
      if (patched) {
        const port = applyPortPatch(patched, prevPorts.get(n), prevPorts, (id) => this.lists.get(id));
        if (!port) return 'resync';
        ports.push(port);
        continue;
      }
      const sent = d.set.ports[n];
      if (sent) {
        for (const l of sent.listeners)
          for (const v of l.virtualHosts ?? []) {
            const routes = this.lists.get(v.routes as unknown as number);
            if (!routes) return 'resync';
            v.routes = routes;
          }
        ports.push(sent);
        continue;
      }
      const p = prevPorts.get(n);
      if (!p) return 'resync';
      ports.push(p);
    }
    let clusters: Record<string, Cluster>;
    const sentClusters = Object.keys(d.set.clusters);
    if (d.clusters === null && prev && sentClusters.length === 0) clusters = prev.clusters;
    else if (d.clusters === null && prev) {
      // The same names, some clusters new (an EndpointSlice change): the config's checks and engine ask keysBetween().
      const patched = patchRecord(prev.clusters, new Map(sentClusters.map((n) => [n, d.set.clusters[n]!])));
      if (!patched) return 'resync';
      clusters = patched;
    } else {
      if (d.clusters === null && !prev) return 'resync';
      clusters = {};
      for (const n of d.clusters ?? Object.keys(prev!.clusters)) {
        const c = d.set.clusters[n] ?? prev?.clusters[n];
        if (!c) return 'resync';
        clusters[n] = c;
      }
    }
    for (const id of d.dropLists) this.lists.delete(id);
    for (const id of d.dropEntries) this.entries.delete(id);
    return { ...d.rest, ports, clusters } as IR;
  }
}
