// What a data plane checks in an assembled IR before it hands it to the engine: the invariants
// the engine relies on and the translator guarantees. A config that breaks one is NACKed
// (SYNC_SNAPSHOT_INVALID) and the previous config keeps serving.

import type { BackendTarget, HTTPFilter, HTTPRouteEntry, IR, Listener, Port, WeightedBackend } from '../ir/types.js';
import { SyncError } from './errors.js';
import { keysBetween } from '../ir/record-patch.js';
import { insertedOf, madeFrom } from '../dataplane/router/list-diff.js';

const PROTOCOLS = new Set(['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP']);

/**
 * checkIR over a stream of IRs that share objects (the config stream's deltas keep every unchanged
 * route entry the same object): an entry found sound is not walked again while no cluster has
 * gone from the config, as only a removed cluster can leave it dangling. At 10,000 routes the full
 * walk was ~40% of a data-plane pod's work per route change (4 of ~10 ms in a CPU profile).
 */
export class IRChecker {
  private sound: Sound = newSound();
  private clusters: IR['clusters'] | undefined;

  check(ir: IR, gateway: string): void {
    const before = this.clusters;
    // A record with a few clusters replaced (ir/record-patch.ts) has every name `before` had.
    if (before && before !== ir.clusters && !keysBetween(ir.clusters, before)) {
      for (const name in before) {
        if (!(name in ir.clusters)) {
          this.sound = newSound();
          break;
        }
      }
    }
    try {
      checkIR(ir, gateway, this.sound, before);
    } catch (err) {
      // What it found sound may lean on clusters only the refused config had.
      this.sound = newSound();
      throw err;
    }
    this.clusters = ir.clusters;
  }
}

/**
 * What an IRChecker found sound against the clusters it holds: route entries, and whole route
 * lists. A list the decoder made from a sound list by edits (list-diff.ts `madeFrom`) is
 * sound once the entries the edits put in are: a route change checks those, not the 10,000 others
 * (walking them all was 3-19 ms of a pod's apply at 10,000 routes on three listeners).
 */
export interface Sound {
  entries: WeakSet<HTTPRouteEntry>;
  lists: WeakSet<readonly HTTPRouteEntry[]>;
}

function newSound(): Sound {
  return { entries: new WeakSet(), lists: new WeakSet() };
}

/** The entries of `routes` to check: none when the list is known sound, the edits' entries when its base is. */
function toCheck(routes: readonly HTTPRouteEntry[], sound: Sound | undefined): readonly HTTPRouteEntry[] {
  if (!sound) return routes;
  if (sound.lists.has(routes)) return [];
  const made = madeFrom(routes);
  return made && sound.lists.has(made.base) ? insertedOf(made.diff, routes) : routes;
}

/**
 * Throws SyncError SYNC_SNAPSHOT_INVALID naming the first few problems; returns quietly when the IR
 * is servable. `sound`: route entries and lists known to be sound against these clusters (skipped),
 * and where the ones found sound are added. `checkedClusters`: the clusters of the last IR that
 * passed; a cluster that is the very object it held there is not checked again.
 */
export function checkIR(ir: IR, gateway: string, sound?: Sound, checkedClusters?: IR['clusters']): void {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const p of ir.ports) {
    if (names.has(p.name)) problems.push(`port ${p.name} appears twice`);
    names.add(p.name);
    checkPort(p, gateway, ir, problems, sound);
  }
  // A delta keeps every unchanged cluster the same object: 1,002 of them were walked per route change.
  if (checkedClusters !== ir.clusters)
    for (const name of keysBetween(ir.clusters, checkedClusters) ?? Object.keys(ir.clusters)) {
      const c = ir.clusters[name]!;
      if (checkedClusters?.[name] === c) continue;
      if (c.name !== name) problems.push(`cluster key ${name} holds cluster ${c.name}`);
      if (!Array.isArray(c.endpoints)) problems.push(`cluster ${name} has no endpoint list`);
    }
  if (problems.length > 0) throw new SyncError('SYNC_SNAPSHOT_INVALID', problems.slice(0, 5).join('; ') + (problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''));
}

function checkPort(p: Port, gateway: string, ir: IR, problems: string[], sound: Sound | undefined): void {
  if (!PROTOCOLS.has(p.protocol)) problems.push(`port ${p.name}: unknown protocol ${String(p.protocol)}`);
  if (!Number.isInteger(p.port) || p.port < 0 || p.port > 65535) problems.push(`port ${p.name}: port number ${String(p.port)} out of range`);
  if (!Array.isArray(p.listeners) || p.listeners.length === 0) return void problems.push(`port ${p.name} has no listeners`);
  // A route's description is written only for a problem: a delta's IR is checked on every apply, 10,000 routes each time.
  const missing: string[] = [];
  const report = (where: () => string): void => {
    for (const c of missing) problems.push(`${where()} names cluster ${c}, which the config does not carry`);
    missing.length = 0;
  };
  for (const l of p.listeners) {
    // A merged data plane (GatewayClass/<name>) serves Gateways only the controller knows: any name.
    if (!gateway.startsWith('GatewayClass/') && !l.name.startsWith(`${gateway}/`)) problems.push(`listener ${l.name} belongs to another Gateway than ${gateway}`);
    for (const c of l.tls?.certificates ?? []) if (typeof c.certPem !== 'string' || typeof c.keyPem !== 'string') problems.push(`listener ${l.name}: certificate ${c.secret} without its key`);
    for (const vh of l.virtualHosts ?? []) {
      const listFound = problems.length;
      for (const r of toCheck(vh.routes, sound)) {
        if (sound?.entries.has(r)) continue;
        const found = problems.length;
        mirrorsMissing(r.filters, ir.clusters, missing);
        backendsMissing(r.backends, ir.clusters, missing);
        if (missing.length > 0) report(() => routeWhere(l, r));
        if (r.session && typeof r.session.sessionKey !== 'string') problems.push(`${routeWhere(l, r)}: session persistence without its key`);
        if (problems.length === found) sound?.entries.add(r);
      }
      if (problems.length === listFound) sound?.lists.add(vh.routes);
    }
    for (const r of l.tlsRoutes ?? []) {
      backendsMissing(r.backends, ir.clusters, missing);
      if (missing.length > 0) report(() => `listener ${l.name} ${r.source.kind} ${r.source.namespace}/${r.source.name}`);
    }
    if (l.l4Route) {
      backendsMissing(l.l4Route.backends, ir.clusters, missing);
      if (missing.length > 0) report(() => `listener ${l.name} ${l.l4Route!.source.kind}`);
    }
  }
}

function targetMissing(t: BackendTarget, clusters: IR['clusters'], out: string[]): void {
  if (t.cluster !== undefined && !(t.cluster in clusters)) out.push(t.cluster);
}

function mirrorsMissing(fs: readonly HTTPFilter[] | undefined, clusters: IR['clusters'], out: string[]): void {
  if (fs) for (const f of fs) if (f.type === 'RequestMirror') targetMissing(f.backend, clusters, out);
}

function backendsMissing(bs: readonly WeightedBackend[], clusters: IR['clusters'], out: string[]): void {
  for (const b of bs) {
    targetMissing(b, clusters, out);
    mirrorsMissing(b.filters, clusters, out);
  }
}

function routeWhere(l: Listener, r: HTTPRouteEntry): string {
  return `listener ${l.name} route ${r.source.kind} ${r.source.namespace}/${r.source.name}`;
}
