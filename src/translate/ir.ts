// Assemble the IR from programmed listeners and what attached to them: one Port per
// (address, port, protocol) socket, listeners sharing it most specific hostname first,
// virtual hosts most specific first, routes in precedence order.

import type { Cluster, HTTPRouteEntry, IR, L4RouteEntry, Listener as IRListener, Port, PortProtocol, TLSRouteEntry, VirtualHost } from '../ir/types.js';
import { clustersOfListener, entryClusters, listenerClusters, sameSet, vhostClusters } from '../ir/listener-clusters.js';
import { followPatch, patchBase, patchedKeys, patchRecord } from '../ir/record-patch.js';
import type { Clusters } from './backends.js';
import { allListeners, type GatewayNode, type ListenerNode } from './graph.js';
import { compareHostnameSpecificity, compareRouteHostnames } from './hostnames.js';
import { tlsMode } from './listeners.js';
import { withClientCertificate } from './backendtls-client.js';
import { compareHTTP, FEW, mergeSorted, upperBound, type RankedEntry } from './precedence.js';

export interface TLSRanked {
  entry: TLSRouteEntry;
  routeOrder: number;
  /** The route's own hostname behind entry.hostnames[0] (see RankedEntry.routeHostname). */
  routeHostname?: string;
}

export class ListenerContent {
  readonly http = new Map<ListenerNode, Map<string, RankedEntry[]>>();
  readonly tls = new Map<ListenerNode, TLSRanked[]>();
  readonly l4 = new Map<ListenerNode, L4RouteEntry>();

  /** Set once every list is in compareHTTP order (translate/splice.ts keeps them so): the IR then takes them as they are. */
  sorted = false;

  /**
   * Returns what it added (translate/splice.ts takes it out again when the route changes).
   * `copies`: what earlier calls for the same route made of `entries` per routeHostname. A route
   * on several listeners (a parentRef to a whole Gateway) puts the same objects in each: they are
   * never changed once made, and a copy per listener was 80 bytes per rule and listener.
   */
  addHTTP(
    l: ListenerNode,
    hostname: string,
    entries: readonly RankedEntry[],
    routeHostname: string | undefined,
    copies?: Map<string | undefined, RankedEntry[]>,
  ): RankedEntry[] {
    let hosts = this.http.get(l);
    if (!hosts) this.http.set(l, (hosts = new Map()));
    let list = hosts.get(hostname);
    this.touch(hosts, hostname);
    if (!list) {
      hosts.set(hostname, (list = []));
      this.homeOf.set(list, { hosts, hostname });
      // In its place, after the equally specific ones: where a stable sort of the Map's keys (insertion order) puts it.
      const order = this.hostOrder.get(hosts);
      if (order) {
        const next = order.slice();
        next.splice(upperBound(next, hostname, compareHostnameSpecificity), 0, hostname);
        this.hostOrder.set(hosts, next);
      }
    }
    let added = copies?.get(routeHostname);
    if (!added) {
      added = routeHostname === undefined ? [...entries] : entries.map((e) => ({ ...e, routeHostname }));
      copies?.set(routeHostname, added);
    }
    for (const e of added) list.push(e);
    this.servers.set(list, (this.servers.get(list) ?? 0) + 1);
    let uses = this.clusterUses.get(list);
    if (!uses) this.clusterUses.set(list, (uses = new Map()));
    let all = this.listenerUses.get(l);
    if (!all) this.listenerUses.set(l, (all = new Map()));
    for (const e of added)
      entryClusters(e.entry, (c) => {
        uses.set(c, (uses.get(c) ?? 0) + 1);
        all.set(c, (all.get(c) ?? 0) + 1);
      });
    return added;
  }

  /** The same counts summed per listener: a listener of 10,000 virtual hosts names its clusters without a walk over them. */
  private readonly listenerUses = new Map<ListenerNode, Map<string, number>>();

  /** The clusters the entries of `l`'s virtual hosts name. */
  clustersOfListener(l: ListenerNode): string[] {
    return [...(this.listenerUses.get(l)?.keys() ?? [])];
  }

  /**
   * Per virtual host list, how many of its entries name each cluster (backends and mirrors):
   * the IR's referenced clusters are then the union of these keys over served listeners, not a
   * walk over every entry of every virtual host (translate/splice.ts rebuilds a listener of
   * 10,000 entries for one changed route).
   */
  private readonly clusterUses = new Map<RankedEntry[], Map<string, number>>();

  /**
   * Per list, the IR routes (its entries' `entry`, in order) last handed out, while that still
   * holds: a splice edits a copy at the positions it edits the list (placeAdded, removeHTTP)
   * instead of mapping 10,000 entries again. An array once handed out is never changed.
   */
  private readonly irRoutes = new Map<RankedEntry[], HTTPRouteEntry[]>();

  /** The IR routes of `list`. */
  routesOf(list: RankedEntry[]): HTTPRouteEntry[] {
    let routes = this.irRoutes.get(list);
    if (!routes || routes.length !== list.length) this.irRoutes.set(list, (routes = list.map((r) => r.entry)));
    return routes;
  }

  /** Some entries of `list` were given other (equal) objects: its IR routes are built again when asked. */
  entriesReplaced(list: RankedEntry[]): void {
    this.irRoutes.delete(list);
    const home = this.homeOf.get(list);
    if (home) this.touch(home.hosts, home.hostname);
  }

  /** Where each list is: which listener's virtual hosts, under which hostname. */
  private readonly homeOf = new WeakMap<RankedEntry[], { hosts: Map<string, RankedEntry[]>; hostname: string }>();
  /** Per listener (its hostname map), the hostnames whose virtual host may differ from the last one virtualHosts() built. */
  private readonly changedHosts = new WeakMap<Map<string, RankedEntry[]>, Set<string>>();
  /** Per listener, what virtualHosts() built last, and in which order of hostnames. */
  private readonly lastVHosts = new WeakMap<Map<string, RankedEntry[]>, { order: readonly string[]; vhosts: readonly VirtualHost[] }>();

  private touch(hosts: Map<string, RankedEntry[]>, hostname: string): void {
    let s = this.changedHosts.get(hosts);
    if (!s) this.changedHosts.set(hosts, (s = new Set()));
    s.add(hostname);
  }

  /**
   * A listener's virtual hosts, most specific hostname first, each made by `make`. With a
   * hostname per route a listener has 10,000 of them, and one route change touches one: the
   * last array is copied and edited where hostnames changed (at their places in the order,
   * found by binary search: compareHostnameSpecificity is a total order), not built again.
   */
  virtualHosts(hosts: Map<string, RankedEntry[]>, make: (hostname: string, list: RankedEntry[]) => VirtualHost): VirtualHost[] {
    const order = this.hostnamesInOrder(hosts);
    const changed = this.changedHosts.get(hosts);
    this.changedHosts.delete(hosts);
    const last = this.lastVHosts.get(hosts);
    let out = last && (changed?.size ?? 0) <= 64 ? editedVHosts(last, order, changed, hosts, make) : undefined;
    out ??= order.map((h) => make(h, hosts.get(h)!));
    this.lastVHosts.set(hosts, { order, vhosts: out });
    return out;
  }

  /**
   * After addHTTP appended `count` entries to the virtual host (translate/splice.ts): each moved to
   * its place in compareHTTP order, equal ones after those already there and in the order they
   * were appended. A few are placed one by one; many (the routes a list brings in, a batch of
   * thousands) are sorted and merged in once, which is what placing each in turn amounts to,
   * without moving the whole list once per entry.
   */
  placeAdded(l: ListenerNode, hostname: string, count: number): void {
    const list = this.http.get(l)!.get(hostname)!;
    const before = this.irRoutes.get(list);
    const kept = list.length - count;
    const valid = before !== undefined && before.length === kept;
    if (count <= FEW) {
      const added = list.splice(kept, count);
      const routes = valid ? before.slice() : undefined;
      for (const e of added) {
        const at = upperBound(list, e, compareHTTP);
        list.splice(at, 0, e);
        routes?.splice(at, 0, e.entry);
      }
      if (routes) this.irRoutes.set(list, routes);
      else this.irRoutes.delete(list);
      return;
    }
    const added = list.slice(kept).sort(compareHTTP); // stable: appended order among equals
    const merged = mergeSorted(list, kept, added, compareHTTP);
    for (let i = 0; i < merged.length; i++) list[i] = merged[i]!;
    if (valid) this.irRoutes.set(list, merged.map((e) => e.entry));
    else this.irRoutes.delete(list);
  }

  /** Each listener's hostnames most specific first, edited as virtual hosts come and go (a new array each time: a built IR may hold the last). */
  private readonly hostOrder = new WeakMap<Map<string, RankedEntry[]>, string[]>();

  /** The hostnames of `hosts` (one listener's virtual hosts), most specific first. */
  hostnamesInOrder(hosts: Map<string, RankedEntry[]>): string[] {
    let order = this.hostOrder.get(hosts);
    if (!order) this.hostOrder.set(hosts, (order = [...hosts.keys()].sort(compareHostnameSpecificity)));
    return order;
  }

  /** The clusters the entries of `list` name. */
  clustersOf(list: RankedEntry[]): Iterable<string> {
    return this.clusterUses.get(list)?.keys() ?? [];
  }

  /** How many routes are served on each list: a virtual host exists while one is, even with no entries (a route without rules). */
  private readonly servers = new Map<RankedEntry[], number>();

  /**
   * Undoes one addHTTP (translate/splice.ts): the virtual host gone with its last route, its
   * entries taken out of the list by dropRemoved(), once for all the routes a batch removes
   * from it (filtering a 10,000-entry list per route made an edit of 1,000 routes cost seconds).
   */
  removeHTTP(l: ListenerNode, hostname: string, added: readonly RankedEntry[]): void {
    const hosts = this.http.get(l);
    const list = hosts?.get(hostname);
    if (!hosts || !list) throw new Error(`no virtual host ${hostname} on listener ${l.id}`);
    this.touch(hosts, hostname);
    let r = this.removing.get(list);
    if (!r) this.removing.set(list, (r = { where: `virtual host ${hostname} on listener ${l.id}`, gone: new Set() }));
    for (const e of added) r.gone.add(e);
    const uses = this.clusterUses.get(list);
    const all = this.listenerUses.get(l);
    const less = (m: Map<string, number> | undefined, c: string) => {
      if (!m) return;
      const k = m.get(c)! - 1;
      if (k > 0) m.set(c, k);
      else m.delete(c);
    };
    for (const e of added)
      entryClusters(e.entry, (c) => {
        less(uses, c);
        less(all, c);
      });
    const n = (this.servers.get(list) ?? 0) - 1;
    if (n > 0) this.servers.set(list, n);
    else {
      this.servers.delete(list);
      this.clusterUses.delete(list);
      this.irRoutes.delete(list);
      this.removing.delete(list);
      hosts.delete(hostname);
      const order = this.hostOrder.get(hosts);
      if (order) this.hostOrder.set(hosts, order.filter((h) => h !== hostname));
    }
  }

  /** Per list, the entries removeHTTP took out since the last dropRemoved(). */
  private readonly removing = new Map<RankedEntry[], { where: string; gone: Set<RankedEntry> }>();

  /**
   * Takes what removeHTTP removed out of each list, keeping the order of the rest (the entries
   * addHTTP appended since stay last, for placeAdded). Before the lists are read again.
   */
  dropRemoved(): void {
    for (const [list, { where, gone }] of this.removing) {
      const before = this.irRoutes.get(list);
      const routes: HTTPRouteEntry[] | undefined = before && before.length === list.length ? [] : undefined;
      let w = 0;
      for (let i = 0; i < list.length; i++)
        if (!gone.has(list[i]!)) {
          list[w++] = list[i]!;
          routes?.push(before![i]!);
        }
      if (list.length - w !== gone.size) throw new Error(`${where} did not hold the removed routes' entries`);
      list.length = w;
      if (routes) this.irRoutes.set(list, routes);
      else this.irRoutes.delete(list);
    }
    this.removing.clear();
  }

  addTLS(l: ListenerNode, e: TLSRanked): void {
    let list = this.tls.get(l);
    if (!list) this.tls.set(l, (list = []));
    list.push(e);
  }
}

/** The IR listener's own fields, before what routes it serves (translate/splice-world.ts compares them). */
export function listenerHeader(l: ListenerNode): IRListener {
  const protocol = l.spec.protocol as PortProtocol;
  const out: IRListener = { name: l.id, protocol };
  if (l.spec.hostname) out.hostname = l.spec.hostname;
  if (protocol === 'HTTPS' || protocol === 'TLS') {
    const mode = protocol === 'TLS' ? tlsMode(l.spec) : 'Terminate';
    out.tls = { mode, certificates: mode === 'Terminate' ? l.certificates : [], ...(l.clientValidation ? { clientValidation: l.clientValidation } : {}) };
  }
  return out;
}

/**
 * The virtual host last built from each route list, while its routes are the same array (the
 * list did not change since): a listener rebuilt for one changed route, with a virtual host per
 * route, builds one object, not 10,000, and the IR delta (dataplane/ir-delta.ts) finds the rest
 * by identity.
 */
const builtVHosts = new WeakMap<RankedEntry[], VirtualHost>();

/** Where `h` is in `order` (sorted by compareHostnameSpecificity), or -1. */
function indexOfHost(order: readonly string[], h: string): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareHostnameSpecificity(order[mid], h);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

/** `last.vhosts` (in `last.order`) with the virtual hosts of `changed` hostnames taken out and made again where `order` has them. */
function editedVHosts(
  last: { order: readonly string[]; vhosts: readonly VirtualHost[] },
  order: readonly string[],
  changed: ReadonlySet<string> | undefined,
  hosts: Map<string, RankedEntry[]>,
  make: (hostname: string, list: RankedEntry[]) => VirtualHost,
): VirtualHost[] | undefined {
  if (last.vhosts.length !== last.order.length) return undefined;
  const out = last.vhosts.slice();
  if (!changed) return last.order === order ? out : undefined;
  const from = [...changed].map((h) => indexOfHost(last.order, h)).filter((i) => i >= 0);
  from.sort((a, b) => b - a);
  for (const i of from) out.splice(i, 1);
  const to = [...changed].map((h) => ({ h, at: indexOfHost(order, h) })).filter((x) => x.at >= 0);
  to.sort((a, b) => a.at - b.at);
  for (const { h, at } of to) out.splice(at, 0, make(h, hosts.get(h)!));
  return out.length === order.length ? out : undefined;
}

function irListener(l: ListenerNode, content: ListenerContent): IRListener {
  const out = listenerHeader(l);
  const protocol = out.protocol;
  if (protocol === 'HTTP' || protocol === 'HTTPS') {
    const hosts = content.http.get(l);
    out.virtualHosts = hosts
      ? content.virtualHosts(hosts, (hostname, list) => {
          const routes = content.routesOf(list);
          let vh = builtVHosts.get(list);
          if (vh === undefined || vh.routes !== routes || vh.hostname !== hostname) {
            builtVHosts.set(list, (vh = { hostname, routes }));
            vhostClusters.set(vh, [...content.clustersOf(list)]);
          }
          return vh;
        })
      : [];
    listenerClusters.set(out, content.clustersOfListener(l));
  } else if (protocol === 'TLS') {
    const list = [...(content.tls.get(l) ?? [])];
    // Most specific SNI first; then the route's own hostname behind it, route age, rule order.
    list.sort(
      (a, b) =>
        compareHostnameSpecificity(a.entry.hostnames[0], b.entry.hostnames[0]) ||
        compareRouteHostnames(a.routeHostname, b.routeHostname) ||
        a.routeOrder - b.routeOrder ||
        a.entry.source.rule - b.entry.source.rule,
    );
    out.tlsRoutes = list.map((x) => x.entry);
  } else {
    const r = content.l4.get(l);
    if (r) out.l4Route = r;
  }
  return out;
}

/** `listenerIR`: IR listeners built before, reused while their listener's content is unchanged; filled with what is built. */
export function buildIR(gateways: readonly GatewayNode[], content: ListenerContent, clusters: Clusters, listenerIR?: Map<ListenerNode, IRListener>): IR {
  const ports = new Map<string, { port: Port; order: (string | undefined)[] }>();
  if (!content.sorted) {
    // Once, in place: translate/splice.ts keeps them in this order from then on.
    for (const hosts of content.http.values()) for (const list of hosts.values()) (list.sort(compareHTTP), content.entriesReplaced(list));
    content.sorted = true;
  }
  const all = clusterRecord(clusters);
  const withCert: IR['clusters'] = {};
  for (const gw of gateways) {
    for (const l of allListeners(gw)) {
      if (!l.programmed) continue;
      let built = listenerIR?.get(l);
      if (!built) {
        built = irListener(l, content);
        listenerIR?.set(l, built);
      }
      const ir = withClientCertificate(built, gw, all, withCert);
      for (const address of l.addresses) {
        const name = `${address}:${l.spec.port}/${l.spec.protocol}`;
        let p = ports.get(name);
        if (!p) {
          p = { port: { name, address, port: l.spec.port, protocol: l.spec.protocol as PortProtocol, listeners: [] }, order: [] };
          ports.set(name, p);
        }
        p.port.listeners.push(ir);
      }
    }
  }
  const list = mergeSNIPorts([...ports.values()].map((p) => p.port));
  for (const p of list)
    p.listeners.sort((a, b) => compareHostnameSpecificity(a.hostname, b.hostname) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  list.sort((a, b) =>
    a.address !== b.address ? (a.address < b.address ? -1 : 1) : a.port !== b.port ? a.port - b.port : a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0,
  );
  return { ports: list, clusters: referencedClusters(list, all, withCert) };
}

/**
 * HTTPS and TLS listeners on one address and port (conflicts.ts lets them share it, hostnames
 * apart) become one socket: the HTTPS Port carries the TLS listeners too, and the data plane
 * sends each connection by its ClientHello's SNI to a TLS listener or into HTTPS. Its name says
 * so (`/HTTPS+TLS`), so a port gaining or losing its TLS listeners is a new socket, not an update.
 */
function mergeSNIPorts(ports: Port[]): Port[] {
  const https = new Map<string, Port>();
  for (const p of ports) if (p.protocol === 'HTTPS') https.set(`${p.address}:${p.port}`, p);
  const out: Port[] = [];
  for (const p of ports) {
    const into = p.protocol === 'TLS' ? https.get(`${p.address}:${p.port}`) : undefined;
    if (!into) {
      out.push(p);
      continue;
    }
    into.listeners.push(...p.listeners);
    into.name = `${p.address}:${p.port}/HTTPS+TLS`;
  }
  return out;
}


/** Clusters.toRecord() of the last build per Clusters, by its size and version (bumped when a cluster is replaced or forgotten, not added). */
const records = new WeakMap<Clusters, { size: number; version: number; record: IR['clusters'] }>();

function clusterRecord(clusters: Clusters): IR['clusters'] {
  const known = records.get(clusters);
  if (known && known.size === clusters.byName.size && known.version === clusters.version) return known.record;
  // Only replaced since (EndpointSlice changes, incremental.ts): the last record patched, which the
  // config stream and the pods take a few clusters at a time (ir/record-patch.ts).
  const replaced = known && known.size === clusters.byName.size ? clusters.replacedSince(known.version) : undefined;
  const patched = replaced && patchRecord(known!.record, new Map(replaced.map((n) => [n, clusters.byName.get(n)!])));
  const record = patched ?? clusters.toRecord();
  records.set(clusters, { size: clusters.byName.size, version: clusters.version, record });
  return record;
}

/**
 * Only clusters some served entry points at: a backend of a route that did not attach (or
 * whose rule was dropped) must not appear, or the data plane would resolve and pool it.
 * `all` has its keys sorted (the IR promises it); `extra` (per-Gateway copies) is merged in order.
 */
function referencedClusters(ports: readonly Port[], all: IR['clusters'], extra: IR['clusters']): IR['clusters'] {
  const used = new Set<string>();
  for (const p of ports) for (const l of p.listeners) for (const c of clustersOfListener(l)) used.add(c);
  // The same clusters as last time (a splice that moved no backend): the same record, so sharing it is one comparison.
  const last = lastReferenced.get(all);
  if (last && Object.keys(extra).length === 0 && sameSet(last.used, used)) return last.out;
  const out = patchedReferenced(all, extra, used) ?? referencedRecord(all, extra, used);
  if (Object.keys(extra).length === 0) lastReferenced.set(all, { used, out });
  return out;
}

const lastReferenced = new WeakMap<IR['clusters'], { used: ReadonlySet<string>; out: IR['clusters'] }>();

/** `all` patched from a record whose referenced clusters were these same ones: that answer patched alike. */
function patchedReferenced(all: IR['clusters'], extra: IR['clusters'], used: ReadonlySet<string>): IR['clusters'] | undefined {
  const base = patchBase(all);
  const last = base && Object.keys(extra).length === 0 ? lastReferenced.get(base as IR['clusters']) : undefined;
  if (!last || !sameSet(last.used, used)) return undefined;
  return followPatch(last.out, all, patchedKeys(all, base)!, (k) => used.has(k));
}

function referencedRecord(all: IR['clusters'], extra: IR['clusters'], used: ReadonlySet<string>): IR['clusters'] {
  const out: IR['clusters'] = {};
  const names = Object.keys(extra).length === 0 ? Object.keys(all) : Object.keys({ ...all, ...extra }).sort();
  for (const k of names) if (used.has(k)) out[k] = extra[k] ?? all[k]!;
  return out;
}
