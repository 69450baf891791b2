// Control-plane metrics: translations, the last good config, objects per kind and per
// Accepted/Programmed condition, and (Kubernetes mode) status writes, watch errors and
// leadership. One instance per process (`portico run`, `portico controller`); the translator
// is timed by wrapping the function the loop calls, so no pipeline code changes shape.

import type { Snapshot as StoreSnapshot } from '../../store/snapshot.js';
import type { ObjectStatus, TranslateOptions } from '../../translate/types.js';
import { type Cell, type Family, type HistCell, DURATION_BUCKETS, observe, Registry, WORK_BUCKETS } from './registry.js';
import type { IncrementalStats } from '../../translate/incremental.js';
import { registerProcessMetrics } from './process.js';

/** Kinds counted in portico_objects (what the sources read). */
export const OBJECT_KINDS = [
  'GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute', 'ReferenceGrant', 'BackendTLSPolicy',
  'Service', 'EndpointSlice', 'Secret', 'ConfigMap', 'Namespace',
] as const;
const CONDITIONS = ['Accepted', 'Programmed'] as const;

interface Condition {
  type?: unknown;
  status?: unknown;
}

export class ControlPlaneMetrics {
  readonly registry: Registry;
  readonly translations: Family<Cell>;
  readonly translationDuration: Family<HistCell>;
  readonly lastGood: Cell;
  readonly objects: Family<Cell>;
  readonly conditions: Family<Cell>;
  readonly statusWrites: Family<Cell>;
  readonly watchErrors: Family<Cell>;
  readonly leader: Family<Cell>;
  readonly rebuildsSkipped: Family<Cell>;
  readonly synced: Family<Cell>;
  readonly changeToServing: Family<HistCell>;
  readonly translationPaths: Family<Cell>;

  constructor(registry = new Registry()) {
    this.registry = registry;
    registerProcessMetrics(registry);
    const r = registry;
    this.translations = r.counter('portico_translations_total', 'Translations of the resource snapshot into the IR, by result (ok, error).', ['result']);
    this.translationDuration = r.histogram('portico_translation_duration_seconds', 'Time one translation took.', [], WORK_BUCKETS);
    this.lastGood = r.gauge('portico_config_last_good_timestamp_seconds', 'Unix time the last configuration was translated and applied to the data plane without error.', [], 'max').child();
    this.objects = r.gauge('portico_objects', 'Objects in the last translated snapshot, by kind.', ['kind'], 'max');
    this.conditions = r.gauge(
      'portico_object_conditions',
      'Gateway API objects by condition (Accepted, Programmed) and its status, from the last translation; routes count once per parentRef.',
      ['kind', 'condition', 'status'],
      'max',
    );
    this.statusWrites = r.counter('portico_status_writes_total', 'Status writes to the API server, by result (ok, conflict, error).', ['result']);
    this.watchErrors = r.counter('portico_watch_errors_total', 'List/watch failures of the Kubernetes informers, by kind.', ['kind']);
    this.leader = r.gauge('portico_leader', '1 when this controller replica writes status (leader, or leader election off), else 0.', [], 'max');
    this.rebuildsSkipped = r.counter('portico_rebuilds_skipped_total', 'Changes that needed no translation, by reason (status_only, unreferenced).', ['reason']);
    this.synced = r.gauge('portico_informers_synced', '1 once every informer has listed its kind.', [], 'max');
    this.changeToServing = r.histogram(
      'portico_change_to_serving_seconds',
      'From the first change event a rebuild took in (a file event, an informer event) until its configuration was applied to the data plane.',
      [],
      DURATION_BUCKETS,
    );
    this.translationPaths = r.counter(
      'portico_translation_paths_total',
      'Translations by how the incremental translator answered: full, unchanged, endpoints (only EndpointSlices changed), routes (changed routes spliced in), world (Gateways, ListenerSets, GatewayClasses or Secrets spliced in), lookups (the routes that read a changed Service, Namespace or ReferenceGrant spliced in), policies (a policy on Services or a CA ConfigMap spliced into the clusters and the routes naming its Services). A translation that spliced Gateways and routes together counts under both.',
      ['path'],
    );
  }

  /** A rebuild's configuration serves `ms` after the first change event it took in. */
  servedAfter(ms: number): void {
    observe(this.changeToServing.child(), ms / 1000);
  }

  /** portico_translation_paths_total from the incremental translator's own counts, read when the metrics are. */
  trackIncremental(stats: Readonly<IncrementalStats>): void {
    this.translationPaths.collect = () => {
      for (const [path, n] of [
        ['full', stats.full],
        ['unchanged', stats.unchanged],
        ['endpoints', stats.endpointsOnly],
        ['routes', stats.routesSpliced],
        ['world', stats.worldSpliced],
        ['lookups', stats.lookupsSpliced],
        ['policies', stats.policiesSpliced],
      ] as const)
        this.translationPaths.child([path]).v = n;
    };
  }

  /** Wraps a translate function: counts and times every call, records objects and conditions. */
  wrapTranslate<T extends (s: StoreSnapshot, o: TranslateOptions) => { statuses: readonly ObjectStatus[] }>(translate: T): T {
    const wrapped = (snapshot: StoreSnapshot, options: TranslateOptions) => {
      const t0 = performance.now();
      try {
        const result = translate(snapshot, options);
        this.translations.child(['ok']).v++;
        this.record(snapshot, result.statuses);
        return result;
      } catch (e) {
        this.translations.child(['error']).v++;
        throw e;
      } finally {
        observe(this.translationDuration.child(), (performance.now() - t0) / 1000);
      }
    };
    return wrapped as unknown as T;
  }

  private recorded: readonly ObjectStatus[] | undefined;
  /** The last translation's snapshot and statuses, counted when the metrics are read. */
  private last: { snapshot: StoreSnapshot; statuses: readonly ObjectStatus[] } | undefined;
  private counted: ControlPlaneMetrics['last'];

  /**
   * Objects per kind and Accepted/Programmed conditions of the statuses just computed, counted
   * when the metrics are read (collect), not per translation: at 10,000 routes counting every
   * status's conditions took ~10 ms of each change in controller mode.
   */
  record(snapshot: StoreSnapshot, statuses: readonly ObjectStatus[]): void {
    this.last = { snapshot, statuses };
    this.objects.collect ??= () => this.count();
    this.conditions.collect ??= () => this.count();
  }

  private count(): void {
    if (!this.last || this.last === this.counted) return;
    this.counted = this.last;
    const { snapshot, statuses } = this.last;
    this.objects.reset();
    for (const k of OBJECT_KINDS) this.objects.child([k]).v = snapshot.list(k).length;
    // The same statuses array (translate/incremental.ts shares it when no status can change): same counts.
    if (statuses === this.recorded) return;
    this.recorded = statuses;
    this.conditions.reset();
    for (const s of statuses) {
      const st = s.status as { conditions?: Condition[]; parents?: { conditions?: Condition[] }[] };
      const lists = st.parents ? st.parents.map((p) => p.conditions ?? []) : [st.conditions ?? []];
      for (const conds of lists) {
        for (const c of conds) {
          if (!CONDITIONS.includes(c.type as (typeof CONDITIONS)[number])) continue;
          const status = c.status === 'True' || c.status === 'False' ? c.status : 'Unknown';
          this.conditions.child([s.kind, String(c.type), status]).v++;
        }
      }
    }
  }

  /** A config translated and applied without error. */
  good(): void {
    this.lastGood.v = Date.now() / 1000;
  }
}
