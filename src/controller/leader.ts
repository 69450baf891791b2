// Leader election over a coordination.k8s.io/v1 Lease, following client-go's rules: the
// holder renews every retry period; others take over only after they have seen the same
// lease record unchanged for a full lease duration by their own clock (no trust in clock
// agreement between machines); a leader that cannot renew within the renew deadline steps
// down before anyone else may take over. Only the leader writes status.

import { ApiError, type ApiClient } from '../sources/kubernetes.js';

export interface LeaderElectionOptions {
  client: ApiClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number; // default 15 s
  renewDeadlineMs?: number; // default 10 s
  retryPeriodMs?: number; // default 2 s
  onStartedLeading?: () => void;
  onStoppedLeading?: () => void;
  log?: (msg: string) => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(d: Date): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading' | 'log'>> &
    Pick<LeaderElectionOptions, 'onStartedLeading' | 'onStoppedLeading'>;
  private readonly log: (msg: string) => void;
  private leading = false;
  private lastRenew = 0;
  private observed = '';
  private observedAt = 0;
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private tickRunning?: Promise<void>;

  constructor(options: LeaderElectionOptions) {
    this.o = {
      leaseDurationMs: 15000,
      renewDeadlineMs: 10000,
      retryPeriodMs: 2000,
      ...options,
    };
    if (this.o.renewDeadlineMs >= this.o.leaseDurationMs) {
      throw new Error('leader election: the renew deadline must be shorter than the lease duration');
    }
    this.log = options.log ?? (() => {});
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the lease so a standby takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.tickRunning;
    if (this.leading) {
      this.setLeading(false);
      try {
        const lease = await this.get();
        if (lease?.spec?.holderIdentity === this.o.identity) {
          await this.put({
            ...lease,
            spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(new Date()) },
          });
        }
      } catch (err) {
        this.log(`leader election: releasing the lease failed: ${(err as Error).message}`);
      }
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tickRunning = this.tick().finally(() => this.schedule(this.o.retryPeriodMs));
    }, ms);
    this.timer.unref();
  }

  private path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`;
    return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
  }

  private async get(): Promise<Lease | undefined> {
    const res = await this.o.client.request('GET', this.path(this.o.name), { timeoutMs: this.o.retryPeriodMs * 2 });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new ApiError(res.status, `GET lease: ${res.status}`);
    return res.body as Lease;
  }

  private async put(lease: Lease): Promise<Lease> {
    return this.o.client.json<Lease>('PUT', this.path(this.o.name), { body: lease, timeoutMs: this.o.retryPeriodMs * 2 });
  }

  private setLeading(on: boolean): void {
    if (on === this.leading) return;
    this.leading = on;
    this.log(`leader election: ${this.o.identity} ${on ? 'became' : 'is no longer'} the leader (${this.o.namespace}/${this.o.name})`);
    try {
      (on ? this.o.onStartedLeading : this.o.onStoppedLeading)?.();
    } catch (err) {
      this.log(`leader election callback failed: ${(err as Error).message}`);
    }
  }

  private async tick(): Promise<void> {
    const now = Date.now();
    try {
      await this.tryAcquireOrRenew(now);
    } catch (err) {
      if (!(err instanceof ApiError && err.statusCode === 409)) {
        this.log(`leader election: ${(err as Error).message}`);
      }
    }
    if (this.leading && Date.now() - this.lastRenew > this.o.renewDeadlineMs) {
      // cannot prove we still hold it: stop writing before the lease can pass to someone else
      this.setLeading(false);
    }
  }

  private async tryAcquireOrRenew(now: number): Promise<void> {
    const spec: LeaseSpec = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: microTime(new Date(now)),
      renewTime: microTime(new Date(now)),
      leaseTransitions: 0,
    };
    const lease = await this.get();
    if (!lease) {
      await this.o.client.json('POST', this.path(), {
        body: {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.o.name, namespace: this.o.namespace },
          spec,
        },
      });
      this.lastRenew = now;
      this.setLeading(true);
      return;
    }
    const cur = lease.spec ?? {};
    const record = `${cur.holderIdentity ?? ''}|${cur.renewTime ?? ''}|${cur.leaseDurationSeconds ?? ''}`;
    if (record !== this.observed) {
      this.observed = record;
      this.observedAt = now;
    }
    const holder = cur.holderIdentity ?? '';
    const mine = holder === this.o.identity;
    const durationMs = (cur.leaseDurationSeconds ?? Math.ceil(this.o.leaseDurationMs / 1000)) * 1000;
    if (!mine && holder !== '' && now < this.observedAt + durationMs) {
      this.setLeading(false);
      return; // someone else holds a lease that has not expired by our clock
    }
    const next: LeaseSpec = mine
      ? { ...cur, renewTime: spec.renewTime, leaseDurationSeconds: spec.leaseDurationSeconds }
      : { ...spec, leaseTransitions: (cur.leaseTransitions ?? 0) + 1 };
    const written = await this.put({ ...lease, spec: next });
    this.observed = `${written.spec?.holderIdentity ?? ''}|${written.spec?.renewTime ?? ''}|${written.spec?.leaseDurationSeconds ?? ''}`;
    this.observedAt = now;
    this.lastRenew = now;
    this.setLeading(true);
  }
}
