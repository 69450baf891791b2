// translate() kept warm between snapshots. Each call compares the new snapshot with the one
// the previous result came from (entries by store key, by identity: sources reuse the Entry of
// an object that did not change) and does the least that gives the same result:
//   - nothing changed, or only Secrets/Services/ConfigMaps/Namespaces/EndpointSlices the last
//     translation never looked up (store/relevance.ts, NGINX Gateway Fabric's IsReferenced):
//     the previous result, as is;
//   - only EndpointSlices changed: the previous result with the endpoints of the clusters
//     those slices feed recomputed (endpointsFor, as translate does), every other cluster,
//     listener and status shared, not copied. No route is translated again;
//   - anything else: a full translate(), whose result then shares with the previous one every
//     part that did not change (./share.ts), so the IR delta, the workers' routers and the status
//     summary downstream only redo the changed parts.
// The full translate() stays the reference: test/translate/incremental.test.ts applies random
// change sequences and checks both give deep-equal results.

import { Kind } from '../api/names.js';
import type { EndpointSlice, Resource, Service, ServicePort } from '../api/types.js';
import type { Cluster } from '../ir/types.js';
import { changeMatters } from '../store/relevance.js';
import { keyOf, type Entry, type Snapshot } from '../store/snapshot.js';
import { endpointsFor } from './backends.js';
import { SERVICE_NAME_LABEL } from './context.js';
import { shareUnchanged } from './share.js';
import type { TranslateOptions, TranslateResult } from './types.js';

export type TranslateFn = (snapshot: Snapshot, options: TranslateOptions) => TranslateResult;

/** How each call was answered (admin/debug figures, and what the tests check). */
export interface IncrementalStats {
  full: number;
  unchanged: number;
  endpointsOnly: number;
}

export interface IncrementalTranslate extends TranslateFn {
  readonly stats: IncrementalStats;
  /** Forget the previous result: the next call translates in full. */
  reset(): void;
}

interface Last {
  entries: ReadonlyMap<string, Entry>;
  options: TranslateOptions;
  result: TranslateResult;
}

const OPTION_FIELDS = ['controllerName', 'addressFor', 'addressUsable', 'portUnavailable', 'dataPlanes', 'mergedGatewayClasses', 'sessionSeed'] as const;

/** Options are equal when every field is the same value (functions and maps: the same object). */
function sameOptions(a: TranslateOptions, b: TranslateOptions): boolean {
  for (const f of OPTION_FIELDS) if (a[f] !== b[f]) return false;
  for (const k of Object.keys(b)) if (!(OPTION_FIELDS as readonly string[]).includes(k) && (a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  return true;
}

/** Keys whose entry differs (added, removed or replaced) between two snapshots. */
function changedKeys(before: ReadonlyMap<string, Entry>, after: ReadonlyMap<string, Entry>): string[] {
  const out: string[] = [];
  let common = 0;
  for (const [k, e] of after) {
    const b = before.get(k);
    if (b === undefined) out.push(k);
    else {
      common++;
      if (b.resource !== e.resource) out.push(k);
    }
  }
  if (common < before.size) for (const k of before.keys()) if (!after.has(k)) out.push(k);
  return out;
}

const sliceService = (r: Resource | undefined): string | undefined => {
  const svc = r?.metadata?.labels?.[SERVICE_NAME_LABEL];
  return typeof svc === 'string' ? `${r!.metadata.namespace ?? 'default'}/${svc}` : undefined;
};

/** `namespace/service:port...` -> its parts (cluster names: translate/backends.ts). */
const CLUSTER_NAME = /^([^/]+)\/([^:/]+):(\d+)(?:\/|$)/;

/**
 * The previous result with the endpoints of every cluster fed by `services` (`ns/name`)
 * recomputed from `snapshot`; undefined when a cluster cannot be matched to its Service port
 * the way translate resolved it (the caller then translates in full).
 */
function patchEndpoints(prev: TranslateResult, snapshot: Snapshot, services: ReadonlySet<string>): TranslateResult | undefined {
  const slices = new Map<string, EndpointSlice[]>();
  for (const s of snapshot.list<EndpointSlice>(Kind.EndpointSlice)) {
    const svc = sliceService(s as unknown as Resource);
    if (svc === undefined || !services.has(svc)) continue;
    let list = slices.get(svc);
    if (!list) slices.set(svc, (list = []));
    list.push(s);
  }
  let clusters: Record<string, Cluster> | undefined;
  for (const [name, c] of Object.entries(prev.ir.clusters)) {
    const m = CLUSTER_NAME.exec(name);
    if (!m) continue;
    const [, ns, svcName, portText] = m;
    const key = `${ns}/${svcName}`;
    if (!services.has(key)) continue;
    const svc = snapshot.get<Service>(Kind.Service, ns, svcName!);
    if (!svc) return undefined;
    if (svc.spec?.type === 'ExternalName') continue; // endpoints from spec.externalName, not slices
    const port = Number(portText);
    const ports: ServicePort[] = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];
    // The same choice backends.ts makes: the port number, UDP or not by the route kind.
    const wantUDP = c.protocol === 'udp';
    const sp = ports.find((p) => p.port === port && (p.protocol === 'UDP') === wantUDP) ?? ports.find((p) => p.port === port);
    if (!sp) return undefined;
    clusters ??= { ...prev.ir.clusters };
    clusters[name] = { ...c, endpoints: endpointsFor(slices.get(key) ?? [], sp) };
  }
  if (!clusters) return prev;
  return { ...prev, ir: { ...prev.ir, clusters } };
}

export function incrementalTranslate(full: TranslateFn): IncrementalTranslate {
  let last: Last | undefined;
  const stats: IncrementalStats = { full: 0, unchanged: 0, endpointsOnly: 0 };
  const translateFull = (snapshot: Snapshot, options: TranslateOptions): TranslateResult => {
    const prev = last?.result;
    last = undefined; // a throwing translate must not leave a stale base behind
    const result = prev ? shareUnchanged(prev, full(snapshot, options)) : full(snapshot, options);
    stats.full++;
    last = { entries: snapshot.byKeys(), options, result };
    return result;
  };
  const fn = (snapshot: Snapshot, options: TranslateOptions): TranslateResult => {
    if (!last || !last.result.references || !sameOptions(last.options, options)) return translateFull(snapshot, options);
    const entries = snapshot.byKeys();
    const references = new Set(last.result.references);
    const services = new Set<string>();
    for (const k of changedKeys(last.entries, entries)) {
      const before = last.entries.get(k)?.resource;
      const after = entries.get(k)?.resource;
      const matters = (before !== undefined && changeMatters(references, before)) || (after !== undefined && changeMatters(references, after));
      if (!matters) continue;
      if ((before ?? after)!.kind !== Kind.EndpointSlice) return translateFull(snapshot, options);
      for (const svc of [sliceService(before), sliceService(after)]) if (svc !== undefined) services.add(svc);
    }
    if (services.size === 0) {
      stats.unchanged++;
      last = { entries, options, result: last.result };
      return last.result;
    }
    // A referenced Service whose key is not in the snapshot any more would have been a Service change.
    for (const s of services) {
      const [ns, name] = s.split('/');
      if (!references.has(keyOf(Kind.Service, ns, name!))) return translateFull(snapshot, options);
    }
    const patched = patchEndpoints(last.result, snapshot, services);
    if (!patched) return translateFull(snapshot, options);
    stats.endpointsOnly++;
    last = { entries, options, result: patched };
    return patched;
  };
  return Object.assign(fn, {
    stats,
    reset() {
      last = undefined;
    },
  });
}
