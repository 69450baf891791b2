// The one status writer, generic over kinds: given the statuses the translator computed,
// bring each object's .status on the API server in line, through the status subresource,
// only when it differs (lastTransitionTime aside), retrying 409 conflicts on a fresh read.
// Only the leader writes; other replicas keep the desired set so they can take over at once.

import type { KindName } from '../api/names.js';
import { ROUTE_KINDS, Kind } from '../api/names.js';
import type { Resource } from '../api/types.js';
import { keyOf } from '../store/snapshot.js';
import type { ObjectStatus } from '../translate/types.js';
import { ApiError, pathOf, type ApiClient, type ServedKind } from '../sources/kubernetes.js';
import { mergeStatus, rfc3339, statusEqual, withoutOurEntries } from './status-merge.js';
import { releaseMemoryWhenQuiet } from '../dataplane/heap-flags.js';

/** What the writer needs from the source: the cached objects and where they live. */
export interface StatusStore {
  readonly client: ApiClient;
  get(kind: string, namespace: string | undefined, name: string): Resource | undefined;
  /** get() by store key (keyOf), if the store offers it. */
  getKey?(key: string): Resource | undefined;
  list(kind: KindName): Resource[];
  /** The objects of a kind by store key (keyOf), if the store keeps them so: spares a pass over every object per kind. */
  byKind?(kind: KindName): ReadonlyMap<string, Resource>;
  served(kind: KindName): ServedKind | undefined;
  remember(resource: Resource): void;
}

export interface StatusWriterOptions {
  store: StatusStore;
  controllerName: string;
  concurrency?: number;
  maxConflictRetries?: number;
  log?: (msg: string) => void;
  now?: () => Date;
}

/** uid: of the stored object when the status was computed, so a deleted and re-created object (same key, same status) is written again. */
type Desired = { kind: KindName; namespace?: string; name: string; generation?: number; uid?: string; expect?: Record<string, unknown>; seen: number } & (
  | { status: Record<string, unknown>; remove?: undefined }
  | { remove: true; status?: undefined }
);

/** Each status's store key, worked out once per status object (the translator shares unchanged ones). */
const statusKeys = new WeakMap<ObjectStatus, string>();

/** Kinds whose status lists are shared with other controllers (entries keyed by controllerName). */
const SHARED_STATUS_KINDS: readonly KindName[] = [...ROUTE_KINDS, Kind.BackendTLSPolicy, Kind.XBackendTrafficPolicy, Kind.BackendLBPolicy];

/** More edits than this between two status lists: setAll(). */
const MAX_EDITS = 256;

/**
 * The statuses of `next` that are not `prev`'s objects in step (added), and those of `prev`
 * not in step with `next`'s (gone), by identity and one step of lookahead: an insertion, a
 * removal, or a replacement in place. Undefined past MAX_EDITS. A status both added and gone
 * (moved) is simply wanted again. Not list-diff.ts diffLists: its middle runs from the first edit
 * to the last, and a route change edits a Gateway's status at the head and the route's far below.
 */
function statusEdits(prev: readonly ObjectStatus[], next: readonly ObjectStatus[]): { added: ObjectStatus[]; gone: ObjectStatus[] } | undefined {
  const added: ObjectStatus[] = [];
  const gone: ObjectStatus[] = [];
  let i = 0;
  let j = 0;
  while (i < prev.length && j < next.length) {
    const p = prev[i]!;
    const n = next[j]!;
    if (p === n) {
      i++;
      j++;
      continue;
    }
    if (added.length + gone.length > MAX_EDITS) return undefined;
    if (next[j + 1] === p) (added.push(n), j++);
    else if (prev[i + 1] === n) (gone.push(p), i++);
    else (gone.push(p), added.push(n), i++, j++);
  }
  if (added.length + gone.length + prev.length - i + next.length - j > MAX_EDITS) return undefined;
  while (i < prev.length) gone.push(prev[i++]!);
  while (j < next.length) added.push(next[j++]!);
  return { added, gone };
}

/** Bursts of at least this many objects are logged when they end. */
const BURST_LOGGED = 100;

export class StatusWriter {
  private readonly store: StatusStore;
  private readonly ctl: string;
  private readonly log: (msg: string) => void;
  private readonly now: () => Date;
  private readonly concurrency: number;
  private readonly maxRetries: number;
  private readonly desired = new Map<string, Desired>();
  /** Number of the last setDesired call (Desired.seen). */
  private epoch = 0;
  private readonly queue = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = 0;
  private enabled = false;
  /** Writes wait (hold()): the desired set is still kept up to date. */
  private held = false;
  private idleWaiters: (() => void)[] = [];
  /** Counters for /metrics and tests. */
  readonly stats = { writes: 0, conflicts: 0, skipped: 0, errors: 0 };

  constructor(o: StatusWriterOptions) {
    this.store = o.store;
    this.ctl = o.controllerName;
    this.log = o.log ?? (() => {});
    this.now = o.now ?? (() => new Date());
    this.concurrency = o.concurrency ?? 4;
    this.maxRetries = o.maxConflictRetries ?? 5;
  }

  /**
   * Replace the whole desired set (one call per translation). `changedKeys`: when known, the store
   * keys whose stored object may have changed since the previous call (Snapshot.delta); the uid of
   * every other object is taken as unchanged instead of being looked up again.
   */
  setDesired(statuses: readonly ObjectStatus[], changedKeys?: ReadonlySet<string>): void {
    // Only what changed since the last desired set is checked again: the translator shares the
    // status objects of an unchanged result (translate/incremental.ts), and comparing 10,000
    // stored statuses after every EndpointSlice change kept the controller busy for ~0.5 s.
    // A stored status someone else changes comes back through poke(); a failed write retries.
    // An object deleted and created again under the same name between two sets has no status
    // yet while the desired one can be the very same object (a route of the same spec, and the
    // translator shares equal statuses): its uid tells them apart (conformance runs re-create
    // routes by name: HTTPRouteBackendRequestHeaderModifier's route was never given a status).
    const prev = this.lastSet;
    this.lastSet = statuses;
    if (!prev || !changedKeys || !this.setEdited(prev, statuses, changedKeys)) this.setAll(statuses, changedKeys);
    this.pump();
  }

  /** The statuses given to the last setDesired call. */
  private lastSet: readonly ObjectStatus[] | undefined;

  private keyOfStatus(s: ObjectStatus): string {
    let key = statusKeys.get(s);
    if (key === undefined) statusKeys.set(s, (key = keyOf(s.kind, s.namespace, s.name)));
    return key;
  }

  private uidOf(s: ObjectStatus, key: string): string | undefined {
    return (this.store.getKey ? this.store.getKey(key) : this.store.get(s.kind, s.namespace, s.name))?.metadata.uid;
  }

  /** `s` as desired (queued to write) unless the entry held for it already says the same. */
  private want(s: ObjectStatus, key: string, uid: string | undefined, epoch: number): void {
    const p = this.desired.get(key);
    if (p && !p.remove && p.status === s.status && p.generation === s.generation && p.uid === uid && p.expect === s.expect) {
      p.seen = epoch;
      return;
    }
    this.desired.set(key, {
      kind: s.kind as KindName,
      namespace: s.namespace,
      name: s.name,
      generation: s.generation,
      uid,
      status: s.status,
      ...(s.expect !== undefined ? { expect: s.expect } : {}),
      seen: epoch,
    });
    this.queue.add(key);
  }

  /** The whole set again: every status looked up, every object of a shared kind checked for our entries. */
  private setAll(statuses: readonly ObjectStatus[], changedKeys?: ReadonlySet<string>): void {
    // The set is updated in place (entries still wanted are stamped with this call's number, the
    // rest dropped after): at 10,000 statuses a new map per call cost ~20 ms.
    const epoch = ++this.epoch;
    const desired = this.desired;
    for (const s of statuses) {
      const key = this.keyOfStatus(s);
      const p = desired.get(key);
      const uid = p && !p.remove && changedKeys && !changedKeys.has(key) ? p.uid : this.uidOf(s, key);
      this.want(s, key, uid, epoch);
    }
    // Objects carrying our entries that the translator no longer speaks for: take ours out
    // (re-checked on every set until done).
    for (const kind of SHARED_STATUS_KINDS) {
      const objects = this.store.byKind ? this.store.byKind(kind) : new Map(this.store.list(kind).map((r) => [keyOf(kind, r.metadata.namespace, r.metadata.name), r]));
      for (const [key, r] of objects) {
        if (desired.get(key)?.seen === epoch || withoutOurEntries(r.status, this.ctl) === undefined) continue;
        desired.set(key, { kind, namespace: r.metadata.namespace, name: r.metadata.name, remove: true, seen: epoch });
        this.queue.add(key);
      }
    }
    for (const [key, d] of desired) if (d.seen !== epoch) desired.delete(key);
  }

  /**
   * The set moved by what changed: the statuses that are not the previous call's objects at the
   * same place, and the objects changed in the store since (`changedKeys`). A route change at
   * 10,000 routes walked every status and every stored route, 4-7 ms per rebuild; this is a
   * pointer walk and the changes. False, having changed nothing, when the two lists differ in
   * more than a few places (setAll() then).
   */
  private setEdited(prev: readonly ObjectStatus[], next: readonly ObjectStatus[], changedKeys: ReadonlySet<string>): boolean {
    if (!this.store.getKey) return false;
    const edits = statusEdits(prev, next);
    if (!edits) return false;
    const epoch = this.epoch;
    const wanted = new Set<string>();
    for (const s of edits.added) {
      const key = this.keyOfStatus(s);
      wanted.add(key);
      const p = this.desired.get(key);
      this.want(s, key, p && !p.remove && !changedKeys.has(key) ? p.uid : this.uidOf(s, key), epoch);
    }
    // A status no longer given: the object is not spoken for (unless it came back under another status object).
    const recheck = new Set<string>();
    for (const s of edits.gone) {
      const key = this.keyOfStatus(s);
      if (wanted.has(key)) continue;
      this.desired.delete(key);
      recheck.add(key);
    }
    for (const key of changedKeys) {
      if (wanted.has(key)) continue;
      const d = this.desired.get(key);
      if (d && !d.remove) {
        // Kept status, stored object changed: deleted, or re-created under the same name, if its uid moved.
        const uid = this.store.getKey(key)?.metadata.uid;
        if (uid !== d.uid) {
          this.desired.set(key, { ...d, uid, seen: epoch });
          this.queue.add(key);
        }
      } else recheck.add(key);
    }
    // Objects not spoken for whose stored status changed (or whose status went): ours taken out while there.
    for (const key of recheck) {
      const r = this.store.getKey(key);
      const kind = r?.kind as KindName | undefined;
      if (r && kind && SHARED_STATUS_KINDS.includes(kind) && withoutOurEntries(r.status, this.ctl) !== undefined) {
        this.desired.set(key, { kind, namespace: r.metadata.namespace, name: r.metadata.name, remove: true, seen: epoch });
        this.queue.add(key);
      } else if (this.desired.get(key)?.remove) this.desired.delete(key);
    }
    return true;
  }

  /** An object's stored status changed (someone wrote it): check it against what we want. */
  poke(kind: string, namespace: string | undefined, name: string): void {
    const key = keyOf(kind, namespace, name);
    if (this.desired.has(key)) {
      this.queue.add(key);
      this.pump();
    }
  }

  /** Leadership gained (true) or lost (false). Gaining re-checks every object. */
  setEnabled(on: boolean): void {
    this.enabled = on;
    if (on) {
      for (const key of this.desired.keys()) this.queue.add(key);
      this.pump();
    }
  }

  /**
   * No writes until `release` settles or `maxMs` passes. Provisioned mode holds the start-up burst
   * (every object's status: 10,000 writes at 10,000 routes) until the data planes serve: on two
   * cores the burst starved the controller's config stream and the pods' start alike. The
   * desired set keeps moving meanwhile: what changed before the release is written once.
   */
  hold(release: Promise<unknown>, maxMs: number): void {
    this.held = true;
    const timer = setTimeout(() => go(), maxMs);
    timer.unref();
    const go = (): void => {
      clearTimeout(timer);
      if (!this.held) return;
      this.held = false;
      this.pump();
    };
    release.then(go, go);
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  /** Resolves when nothing is queued or in flight (retries scheduled for later do not count). */
  idle(): Promise<void> {
    if (this.running === 0 && (this.queue.size === 0 || !this.enabled)) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.enabled = false;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.clear();
  }

  private pump(): void {
    while (this.enabled && !this.held && this.running < this.concurrency && this.queue.size > 0) {
      // one write per object at a time: a second one would only earn itself a 409
      let key: string | undefined;
      for (const k of this.queue) {
        if (!this.inFlight.has(k)) {
          key = k;
          break;
        }
      }
      if (key === undefined) return;
      const picked = key;
      this.burst ??= { at: Date.now(), ...this.stats };
      this.queue.delete(picked);
      this.inFlight.add(picked);
      this.running++;
      void this.writeOne(picked)
        .catch((err: unknown) => this.failed(picked, err))
        .finally(() => {
          this.inFlight.delete(picked);
          this.running--;
          this.pump();
          if (this.running === 0 && (this.queue.size === 0 || !this.enabled)) {
            for (const w of this.idleWaiters.splice(0)) w();
            this.burstEnded();
            // A burst of writes (10,000 at start-up) allocates as much as a rebuild, and ends
            // after the last rebuild's release has run: ~30 MiB stayed resident.
            releaseMemoryWhenQuiet();
          }
        });
    }
  }

  /** Since the writer last went busy: when, and the counters then. */
  private burst?: { at: number } & StatusWriter['stats'];

  /** Says how a large burst went (start-up writes every object's status: 10,000 took ~40 s here). */
  private burstEnded(): void {
    const b = this.burst;
    this.burst = undefined;
    if (!b) return;
    const [writes, skipped, errors] = [this.stats.writes - b.writes, this.stats.skipped - b.skipped, this.stats.errors - b.errors];
    if (writes + skipped + errors < BURST_LOGGED) return;
    this.log(`status writes done: ${writes} written, ${skipped} unchanged, ${errors} failed in ${((Date.now() - b.at) / 1000).toFixed(1)} s`);
  }

  private failed(key: string, err: unknown): void {
    this.stats.errors++;
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const delay = Math.min(30000, 250 * 2 ** Math.min(n, 7));
    this.log(`status write ${key} failed (${(err as Error).message}); retrying in ${delay} ms`);
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.desired.has(key)) {
        this.queue.add(key);
        this.pump();
      }
    }, delay);
    t.unref();
    this.timers.add(t);
  }

  private async writeOne(key: string): Promise<void> {
    const want = this.desired.get(key);
    if (!want) return;
    const served = this.store.served(want.kind);
    if (!served) return;
    let current = this.store.get(want.kind, want.namespace, want.name);
    if (!current) return; // deleted, or not seen yet: its add event will bring a new translation
    for (let attempt = 0; ; attempt++) {
      if (want.generation !== undefined && (current.metadata.generation ?? 0) > want.generation) {
        // computed from an older spec; the translation of the newer one is on its way
        this.stats.skipped++;
        return;
      }
      if (want.expect !== undefined && !statusEqual(current.status, want.expect)) {
        // someone else's status by now (read fresh after a 409 too): not ours to change
        this.stats.skipped++;
        this.failures.delete(key);
        return;
      }
      const next = want.remove
        ? withoutOurEntries(current.status, this.ctl)
        : mergeStatus(current.status, want.status, this.ctl, rfc3339(this.now()));
      if (next === undefined || statusEqual(current.status, next)) {
        this.stats.skipped++;
        this.failures.delete(key);
        return;
      }
      const path = `${pathOf(served, want.namespace, want.name)}/status`;
      try {
        const written = await this.store.client.json<Resource>('PUT', path, { body: { ...current, status: next } });
        this.stats.writes++;
        this.failures.delete(key);
        this.store.remember({ ...written, kind: current.kind, apiVersion: current.apiVersion });
        return;
      } catch (err) {
        if (err instanceof ApiError && err.statusCode === 404) return;
        if (!(err instanceof ApiError) || err.statusCode !== 409 || attempt >= this.maxRetries) throw err;
        this.stats.conflicts++;
        // someone else wrote in between: read the object fresh and merge again
        const fresh = await this.store.client.json<Resource>('GET', pathOf(served, want.namespace, want.name));
        current = { ...fresh, kind: current.kind, apiVersion: current.apiVersion };
      }
    }
  }
}
