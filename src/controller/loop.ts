// The loop: source changes, batched, become a Snapshot; the translator turns it into IR and
// statuses; the engine serves the IR; the status writer (leader only) stores the statuses.
// If the API server goes away nothing here stops: the engine keeps the last IR it was
// given, and the informers re-list when the server is back, which brings a fresh rebuild.

import { performance } from 'node:perf_hooks';
import type { Engine } from '../dataplane/engine-api.js';
import type { IR } from '../ir/types.js';
import { Kind } from '../api/names.js';
import { Snapshot } from '../store/snapshot.js';
import type { ObjectStatus, TranslateOptions, TranslateResult } from '../translate/types.js';
import type { KubernetesSource, SourceChange } from '../sources/kubernetes.js';
import type { StatusWriter } from './status-writer.js';
import { classify, ReferencedNames } from './relevance.js';
import { PROVISIONED_SUPPORTED_FEATURES, SUPPORTED_FEATURES } from './features.js';
import { applyTranslation, describeUnbound, RETRY_UNBOUND_MS } from './unbound.js';
import { AdaptiveDebounce } from '../store/debounce.js';
import type { UnboundPort } from '../dataplane/engine-api.js';

export type TranslateFn = (snapshot: Snapshot, options: TranslateOptions) => TranslateResult;

export interface ControllerLoopOptions {
  source: KubernetesSource;
  engine: Engine;
  translate: TranslateFn;
  writer: StatusWriter;
  controllerName: string;
  addressFor: (namespace: string, name: string) => string;
  /** Called once per rebuild: which spec.addresses IPs the data plane can bind (default: all). */
  addressUsable?: () => (ip: string) => boolean;
  /**
   * What status.addresses should say for a Gateway whose data plane binds `bound` (the
   * wildcard in default mode: the Pod IP or --gateway-address is what clients can reach).
   */
  reportedAddress?: (bound: string) => string | undefined;
  /** TranslateOptions.sessionSeed, read at each rebuild (it derives from the master key Secret once that exists). */
  sessionSeed?: () => string;
  /** Passed to the translator (TranslateOptions.dataPlanes): per-gateway with provisioned data planes. */
  dataPlanes?: TranslateOptions['dataPlanes'];
  /** Changes that need a rebuild whatever relevance.ts says (e.g. provisioned Services, whose status feeds Gateway addresses). */
  rebuildOn?: (c: SourceChange) => boolean;
  /**
   * Awaited once the source has synced, before the first build (provisioned mode: the master key
   * Secret, whose session seed would otherwise make the second build a full translation again).
   */
  beforeFirstBuild?: () => Promise<void>;
  /** Adds to the translator's statuses before they are written (provisioned data planes: ./provisioned-status.ts). */
  extendStatuses?: (snapshot: Snapshot, statuses: readonly ObjectStatus[]) => readonly ObjectStatus[];
  /**
   * Quiet period that ends a burst of changes before a rebuild; changes within it are batched.
   * Default 100 ms. A change when changes are rare rebuilds at once (store/debounce.ts).
   */
  debounceMs?: number;
  /** Upper bound on how long a stream of changes can delay a rebuild. Default 1 s. */
  maxDelayMs?: number;
  log?: (msg: string) => void;
  /** A rebuild's configuration serves `ms` after the first change event it took in (metrics). */
  onServed?: (ms: number) => void;
}

export class ControllerLoop {
  private readonly o: ControllerLoopOptions;
  private readonly log: (msg: string) => void;
  private readonly referenced = new ReferencedNames();
  private readonly debounce: AdaptiveDebounce;
  /** Armed while some port could not be bound: a rebuild then tries it again. */
  private retryTimer?: NodeJS.Timeout;
  private unboundSeen = '';
  private building?: Promise<void>;
  private dirty = false;
  private stopped = false;
  private firstBuildStarted = false;
  lastIR?: IR;
  lastStatuses: readonly ObjectStatus[] = [];
  lastError?: string;
  /** True once an IR built from a fully synced source is being served. */
  ready = false;
  readonly stats = {
    rebuilds: 0,
    skippedStatusOnly: 0,
    skippedUnreferenced: 0,
    applyFailures: 0,
    translateFailures: 0,
    /** From the first change event a rebuild took in until its config was applied (the last such rebuild). */
    lastEventToServingMs: undefined as number | undefined,
  };

  constructor(options: ControllerLoopOptions) {
    this.o = options;
    this.log = options.log ?? (() => {});
    const debounceMs = options.debounceMs ?? 100;
    this.debounce = new AdaptiveDebounce(() => void this.rebuildNow(), {
      // Informer events are whole objects: nothing to let settle.
      settleMs: 0,
      debounceMs,
      burstWindowMs: Math.max(500, debounceMs * 2),
      maxDelayMs: options.maxDelayMs ?? 1000,
    });
  }

  async start(): Promise<void> {
    this.o.source.onChange((c) => this.onChange(c));
    await this.o.source.start();
    await this.o.beforeFirstBuild?.();
    this.firstBuildStarted = true;
    await this.rebuildNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.debounce.cancel();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.building;
  }

  /** Resolves after any pending or running rebuild has finished. */
  async settle(): Promise<void> {
    while (this.debounce.pending || this.building) {
      if (this.building) await this.building;
      else await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Translate again soon (something outside the source changed what the statuses say). */
  requestRebuild(): void {
    this.schedule();
  }

  private onChange(c: SourceChange): void {
    if (this.o.rebuildOn?.(c)) return this.schedule();
    const verdict = classify(c, this.referenced);
    if (verdict === 'status-only') {
      this.stats.skippedStatusOnly++;
      // someone (maybe us) rewrote a status: make sure it still says what we want
      this.o.writer.poke(c.kind, c.resource.metadata.namespace, c.resource.metadata.name);
      return;
    }
    if (verdict === 'unreferenced') {
      this.stats.skippedUnreferenced++;
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || !this.firstBuildStarted) {
      // until the first full list the start() rebuild covers it (a kind discovered later
      // needs no such wait: its objects arrive as ordinary changes)
      this.dirty = true;
      return;
    }
    this.eventAt ??= performance.now();
    this.debounce.trigger();
  }

  private retryUnbound(unbound: readonly UnboundPort[]): void {
    const seen = describeUnbound(unbound);
    if (seen && seen !== this.unboundSeen) this.log(`cannot listen on ${seen}: those listeners are not programmed; retrying every ${RETRY_UNBOUND_MS / 1000} s`);
    else if (!seen && this.unboundSeen) this.log('every port is bound again');
    this.unboundSeen = seen;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (unbound.length === 0) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.schedule();
    }, RETRY_UNBOUND_MS);
    this.retryTimer.unref();
  }

  private async rebuildNow(): Promise<void> {
    if (this.building) {
      this.dirty = true;
      return this.building;
    }
    this.dirty = false;
    this.building = this.rebuild().finally(() => {
      this.building = undefined;
      if (this.dirty && !this.stopped) this.schedule();
    });
    return this.building;
  }

  private lastSnapshot: Snapshot | undefined;
  /** The snapshot (by key) whose statuses the writer was given last. */
  private desiredFrom: ReadonlyMap<string, unknown> | undefined;
  /** When the first change event the next rebuild serves arrived (performance.now()). */
  private eventAt: number | undefined;

  private async rebuild(): Promise<void> {
    if (this.stopped) return;
    const started = Date.now();
    const eventAt = this.eventAt;
    this.eventAt = undefined;
    let served = '';
    // A later version of the previous snapshot's map: the new one costs what changed (store/snapshot.ts).
    const snapshot = new Snapshot(this.o.source.versionedEntries(), this.lastSnapshot);
    this.lastSnapshot = snapshot;
    const options: TranslateOptions = {
      controllerName: this.o.controllerName,
      addressFor: this.o.addressFor,
      addressUsable: this.o.addressUsable?.(),
      ...(this.o.dataPlanes ? { dataPlanes: this.o.dataPlanes } : {}),
      ...(this.o.sessionSeed ? { sessionSeed: this.o.sessionSeed() } : {}),
    };
    let result: TranslateResult;
    try {
      result = this.o.translate(snapshot, options);
    } catch (err) {
      // a translator bug must not take the data plane down: keep serving what we had
      this.referenced.update(snapshot);
      this.stats.translateFailures++;
      this.lastError = `translate: ${(err as Error).message}`;
      this.log(`rebuild failed, still serving the previous config: ${this.lastError}`);
      return;
    }
    this.stats.rebuilds++;
    try {
      // The config stream has sent the config by the time applyTranslation returns its promise
      // (the in-process engine applies a microtask later: there nothing moves). What the next
      // change is classified by is updated then, before the await lets any event in: a walk of
      // every object's references, ~40-80 ms of a cold provisioned start.
      const applying = applyTranslation(this.o.engine, this.o.translate, snapshot, options, result);
      this.referenced.update(snapshot);
      const applied = await applying;
      result = applied.result;
      this.lastIR = result.ir;
      this.lastError = undefined;
      this.ready = true;
      if (eventAt !== undefined) {
        this.stats.lastEventToServingMs = performance.now() - eventAt;
        this.o.onServed?.(this.stats.lastEventToServingMs);
        // The event's wall-clock time lets a reader that sees the data plane serve (the bench's probe of
        // a provisioned pod) time the whole path from the informer event, as issue 15 measures it.
        served = `, serving ${this.stats.lastEventToServingMs.toFixed(1)} ms after the change event (event at ${(performance.timeOrigin + eventAt).toFixed(1)} epoch ms)`;
      }
      this.retryUnbound(applied.unbound);
    } catch (err) {
      this.stats.applyFailures++;
      this.lastError = `apply: ${(err as Error).message}`;
      this.log(`data plane kept the previous config: ${this.lastError}`);
    }
    let statuses: readonly ObjectStatus[] = result.statuses;
    try {
      if (this.o.extendStatuses) statuses = this.o.extendStatuses(snapshot, statuses);
    } catch (err) {
      this.log(`status extension failed, writing the translator's statuses: ${(err as Error).message}`);
    }
    this.lastStatuses = this.decorate(statuses);
    // The keys changed since the snapshot of the previous call: only those objects can have been
    // deleted and created again (a new uid) in between.
    const delta = snapshot.delta;
    this.o.writer.setDesired(this.lastStatuses, delta && delta.from === this.desiredFrom ? new Set(delta.keys) : undefined);
    this.desiredFrom = snapshot.byKeys();
    this.log(
      `rebuilt from ${snapshot.size} objects in ${Date.now() - started} ms${served}: ${result.ir.ports.length} ports, ` +
        `${Object.keys(result.ir.clusters).length} clusters, ${result.statuses.length} statuses`,
    );
  }

  /** decorateOne's answer per status object: the same status object gives the same answer, so the writer sees it unchanged. */
  private readonly decorated = new WeakMap<ObjectStatus, ObjectStatus>();

  /** What the controller adds to the translator's statuses: reachable addresses, supportedFeatures. */
  private decorate(statuses: readonly ObjectStatus[]): ObjectStatus[] {
    return statuses.map((s) => {
      // Routes are most statuses and none is decorated: a WeakMap lookup each was ~0.5 ms of every change at 10,000 routes.
      if (!DECORATED_KINDS.has(s.kind)) return s;
      let d = this.decorated.get(s);
      if (!d) this.decorated.set(s, (d = this.decorateOne(s)));
      return d;
    });
  }

  private decorateOne(s: ObjectStatus): ObjectStatus {
    const report = this.o.reportedAddress;
    if (s.kind === Kind.GatewayClass) {
      const conds = (s.status as { conditions?: { type: string; status: string }[] }).conditions;
      const accepted = conds?.some((c) => c.type === 'Accepted' && c.status === 'True');
      if (!accepted || 'supportedFeatures' in s.status) return s;
      const supportedFeatures = this.o.dataPlanes === 'per-gateway' ? PROVISIONED_SUPPORTED_FEATURES : SUPPORTED_FEATURES;
      return { ...s, status: { ...s.status, supportedFeatures } };
    }
    if (report && s.kind === Kind.Ingress) return reportedIngress(s, report);
    const addrs = (s.status as { addresses?: { type?: string; value: string }[] }).addresses;
    if (!report || s.kind !== Kind.Gateway || !Array.isArray(addrs)) return s;
    const seen = new Set<string>();
    const mapped = addrs
      .map((a) => {
        const r = report(a.value);
        return r === undefined ? a : { type: 'IPAddress', value: r };
      })
      .filter((a) => !seen.has(a.value) && seen.add(a.value));
    return { ...s, status: { ...s.status, addresses: mapped } };
  }
}

/** The kinds whose statuses decorateOne() may change. */
const DECORATED_KINDS: ReadonlySet<string> = new Set([Kind.GatewayClass, Kind.Gateway, Kind.Ingress]);

/** An Ingress's status.loadBalancer with the bound addresses its Gateway reported swapped for reachable ones, as for Gateways. */
export function reportedIngress(s: ObjectStatus, report: (bound: string) => string | undefined): ObjectStatus {
  const lb = (s.status as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } }).loadBalancer;
  if (!lb?.ingress) return s;
  const seen = new Set<string>();
  const ingress = lb.ingress
    .map((a) => (a.ip === undefined ? a : { ip: report(a.ip) ?? a.ip }))
    .filter((a) => {
      const k = a.ip ?? a.hostname ?? '';
      return !seen.has(k) && seen.add(k);
    });
  return { ...s, status: { ...s.status, loadBalancer: { ...lb, ingress } } };
}
