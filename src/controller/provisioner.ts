// The leader's side of provisioned data planes: server-side apply what ./provision-plan.ts
// decided (ServiceAccount, the `<name>-sync` Secret, Service, Deployment, HPA, PDB per accepted
// Gateway), skip Gateways whose objects are unchanged since the last apply, and delete the
// objects that dropped out (an HPA or PDB turned off, a Gateway moved to another class, a
// renamed class). Deleting a Gateway is left to the garbage collector: every object has an
// owner reference to it. A Gateway that is ours but not accepted, or whose parameters are
// invalid, keeps the objects it has (its pods keep serving the last good config).

import { createHash } from 'node:crypto';
import { ApiError, type ApiClient } from '../sources/kubernetes.js';
import { GATEWAY_NAME_LABEL } from '../provision/index.js';
import { applyObject, deleteObject, handOverReplicas, listObjects, PROVISIONED_KINDS, type ProvisionedKind } from './apply.js';
import type { ProvisionPlan } from './provision-plan.js';
import type { SyncKeys } from './sync-keys.js';

const CLASS_LABEL = 'gateway.networking.k8s.io/gateway-class-name';
/** Every provisioned object (the per-Gateway Secret too) carries these labels. */
export const PROVISIONED_SELECTOR = 'app.kubernetes.io/managed-by=portico,app.kubernetes.io/component=dataplane';

export interface ProvisionerOptions {
  client: ApiClient;
  keys: SyncKeys;
  isLeader: () => boolean;
  log: (msg: string) => void;
  /** Called when the set of apply errors changed (statuses report them). */
  onErrorsChanged?: () => void;
  /** A data plane's Deployment was applied (StreamPlan.key): its pods may connect soon. */
  onApplied?: (stream: string) => void;
  /** Re-apply everything and sweep this often, whatever changed. Default 5 min. */
  resyncMs?: number;
  /** After a failed apply, try again this much later. Default 5 s. */
  retryMs?: number;
}

export class Provisioner {
  private plan?: ProvisionPlan;
  /**
   * Data plane (StreamPlan.key: the Gateway's `namespace/name`, or `GatewayClass/<class>`) -> the
   * hash of each of its objects (`kind/name`) as last applied.
   */
  private readonly applied = new Map<string, Map<string, string>>();
  /**
   * Data plane -> the plan's result and the master key its `applied` hashes were taken from. The
   * plan gives the same result object while nothing it was made from changed (provision-plan.ts),
   * so a route change does not serialize and hash every data plane's objects again.
   */
  private readonly appliedFrom = new Map<string, { result: unknown; master: unknown }>();
  /** Data plane (StreamPlan.key) -> why its objects could not be applied. */
  readonly errors = new Map<string, string>();
  private lastSweep = '';
  private running?: Promise<void>;
  private again = false;
  /** resync() was asked while a reconcile ran: forget what was applied once it ends. */
  private resyncAfter = false;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private readonly resyncTimer: NodeJS.Timeout;
  readonly stats = { applies: 0, deletes: 0, failures: 0 };

  constructor(private readonly o: ProvisionerOptions) {
    this.resyncTimer = setInterval(() => this.resync(), o.resyncMs ?? 300_000);
    this.resyncTimer.unref();
  }

  /** The latest plan (every translation); the leader applies it. */
  update(plan: ProvisionPlan): void {
    this.plan = plan;
    this.kick();
  }

  /** Leadership gained or lost, or a periodic resync: forget what was applied, apply and sweep again. */
  leadershipChanged(): void {
    this.resync();
  }

  /** Forget what was applied (someone deleted one of our objects): apply and sweep everything again. */
  resync(): void {
    // A reconcile under way records, when it ends, what it applied before the deletion: forget
    // after it, or the next reconcile takes the deleted object for applied and leaves it gone.
    if (this.running) {
      this.resyncAfter = true;
      this.again = true;
      return;
    }
    this.forget();
    this.kick();
  }

  private forget(): void {
    this.applied.clear();
    this.appliedFrom.clear();
    this.lastSweep = '';
  }

  /** Resolves when no reconcile is running or queued. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    if (this.retry) clearTimeout(this.retry);
    await this.running;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.reconcile()
      .catch((err: unknown) => this.o.log(`provisioning failed: ${(err as Error).message}`))
      .finally(() => {
        this.running = undefined;
        if (this.resyncAfter) {
          this.resyncAfter = false;
          this.forget();
        }
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private later(): void {
    if (this.retry || this.stopped) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.kick();
    }, this.o.retryMs ?? 5000);
    this.retry.unref();
  }

  private async reconcile(): Promise<void> {
    const plan = this.plan;
    if (!plan || !this.o.isLeader() || this.stopped) return;
    const { client, keys, log } = this.o;
    await keys.ensureMaster(client, log);
    if (!keys.master()) {
      // created (by us or another leader) but not in the informer cache yet
      this.later();
      return;
    }
    const errorsBefore = [...this.errors].join('\n');
    const desired = new Set<string>();
    const keepOwners = new Set<string>();
    for (const p of plan.gateways.values()) {
      if (p.accepted && p.result.ok) continue;
      keepOwners.add(p.gateway.metadata.uid ?? '');
    }
    for (const p of plan.streams.values()) {
      const [account, ...rest] = p.result.objects;
      const secret = keys.gatewaySecret(p.key, account!.metadata);
      const objects: { kind: string; metadata: { name: string; namespace?: string } }[] = [
        account as { kind: string; metadata: { name: string } },
        secret as { kind: string; metadata: { name: string } },
        ...(rest as { kind: string; metadata: { name: string } }[]),
      ];
      for (const x of objects) desired.add(`${x.kind}/${x.metadata.namespace}/${x.metadata.name}`);
      // Only the objects that changed: a listener moved to another port changes the Service alone,
      // and applying the other three again cost the API server (and so the change) for nothing.
      const from = { result: p.result, master: keys.master() };
      const last = this.appliedFrom.get(p.key);
      if (last && last.result === from.result && last.master === from.master && this.applied.has(p.key)) continue;
      const id = (x: { kind: string; metadata: { name: string } }): string => `${x.kind}/${x.metadata.name}`;
      const hashes = new Map(objects.map((x) => [id(x), createHash('sha256').update(JSON.stringify(x)).digest('hex')]));
      const before = this.applied.get(p.key);
      const changed = objects.filter((x) => before?.get(id(x)) !== hashes.get(id(x)));
      if (changed.length === 0) {
        if (before) this.appliedFrom.set(p.key, from);
        continue;
      }
      try {
        // Everything but the Deployment at once, then the Deployment: its pods then find their
        // ServiceAccount and -sync Secret, and a cold start waits two API round trips, not one per object.
        await Promise.all(changed.filter((x) => x.kind !== 'Deployment').map((x) => this.applyOrRecreate(x)));
        const workload = changed.filter((x) => x.kind === 'Deployment');
        await Promise.all(workload.map((x) => this.applyOrRecreate(x)));
        this.stats.applies++;
        this.applied.set(p.key, hashes);
        this.appliedFrom.set(p.key, from);
        this.errors.delete(p.key);
        if (workload.length > 0) this.o.onApplied?.(p.key);
        log(`provisioned ${p.gateway ? 'Gateway' : 'the merged data plane of'} ${p.key}: ${changed.map((x) => `${x.kind} ${x.metadata.name}`).join(', ')}`);
      } catch (err) {
        this.stats.failures++;
        this.applied.delete(p.key);
        this.appliedFrom.delete(p.key);
        this.errors.set(p.key, (err as Error).message);
        log(`cannot provision ${p.key}: ${(err as Error).message}; retrying`);
        this.later();
      }
    }
    for (const k of this.errors.keys()) if (!plan.streams.has(k)) this.errors.delete(k);
    const signature = [...desired].sort().join(',') + '|' + [...keepOwners].sort().join(',') + '|' + [...plan.classLabels].sort().join(',');
    if (!plan.partial && signature !== this.lastSweep) {
      try {
        await this.sweep(plan, desired, keepOwners);
        this.lastSweep = signature;
      } catch (err) {
        log(`cannot remove data-plane objects that dropped out: ${(err as Error).message}; retrying`);
        this.later();
      }
    }
    if ([...this.errors].join('\n') !== errorsBefore) this.o.onErrorsChanged?.();
  }

  /**
   * Server-side apply; a Service whose change touches an immutable field (a new static
   * clusterIP from spec.addresses) is deleted and created again, as nothing else can change it.
   */
  private async applyOrRecreate(x: { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> }): Promise<void> {
    if (x.kind === 'Deployment' && x.spec && !('replicas' in x.spec)) {
      const r = { namespace: x.metadata.namespace ?? 'default', name: x.metadata.name };
      if (await handOverReplicas(this.o.client, r)) this.o.log(`Deployment ${r.namespace}/${r.name}: replicas handed over to its HorizontalPodAutoscaler`);
    }
    try {
      await applyObject(this.o.client, x);
    } catch (err) {
      if (!(x.kind === 'Service' && err instanceof ApiError && err.statusCode === 422 && /may not change once set|immutable/.test(err.message))) throw err;
      this.o.log(`Service ${x.metadata.namespace}/${x.metadata.name}: ${err.message}; deleting and creating it again`);
      await deleteObject(this.o.client, { kind: 'Service', namespace: x.metadata.namespace ?? 'default', name: x.metadata.name });
      await applyObject(this.o.client, x);
    }
  }

  /** Deletes objects of this controller's classes that no accepted Gateway wants any more. */
  private async sweep(plan: ProvisionPlan, desired: ReadonlySet<string>, keepOwners: ReadonlySet<string>): Promise<void> {
    for (const kind of PROVISIONED_KINDS) {
      for (const x of await listObjects(this.o.client, kind, PROVISIONED_SELECTOR)) {
        const m = x.metadata;
        if (!plan.classLabels.has(m.labels?.[CLASS_LABEL] ?? '')) continue; // another controller's
        if (desired.has(`${kind}/${m.namespace}/${m.name}`)) continue;
        const owner = m.ownerReferences?.find((r) => r.kind === 'Gateway')?.uid;
        if (owner && keepOwners.has(owner)) continue;
        await deleteObject(this.o.client, { kind: kind as ProvisionedKind, namespace: m.namespace, name: m.name }, m.uid);
        this.stats.deletes++;
        this.o.log(`deleted ${kind} ${m.namespace}/${m.name} (Gateway ${m.labels?.[GATEWAY_NAME_LABEL] ?? '?'}: no longer wanted)`);
      }
    }
  }
}
