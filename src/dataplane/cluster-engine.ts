// Multi-process engine: node:cluster workers, each a LocalEngine. The primary sends each IR
// to every worker over IPC, as a delta of the ports and clusters that changed (./ir-delta.ts); apply() resolves when all of them applied it, with every port any
// of them could not bind (rejects with the first error). The OS balances accepted connections (SCHED_NONE): the primary only binds.
// A worker that dies is replaced and given the last applied IR.
// Metrics: on each scrape the primary asks every worker for its snapshot (IPC, bounded by a
// timeout; a worker that does not answer in time contributes its last snapshot) and sums them.
// Workers also push a snapshot every 10 s, so a worker that dies loses at most that much.
// A worker that exits leaves its last counters and histograms behind (gauges dropped), so every
// counter stays monotonic across worker restarts. Applies are counted here, once per config.

import cluster, { type Worker } from 'node:cluster';
import type { IR } from '../ir/types.js';
import { DeltaEncoder } from './ir-delta.js';
import type { ApplyResult, Engine, EngineOptions, UnboundPort } from './engine-api.js';
import { DataplaneMetrics } from '../observability/metrics/dataplane.js';
import { merge } from '../observability/metrics/exposition.js';
import type { Snapshot } from '../observability/metrics/registry.js';
import { mallocEnv, releaseMemoryWhenQuiet, workerExecArgv } from './heap-flags.js';

/** Families the primary owns (one count per config, not per worker). */
const PRIMARY_FAMILIES = new Set(['portico_dataplane_applies_total', 'portico_dataplane_apply_duration_seconds', 'portico_dataplane_last_apply_timestamp_seconds']);
/** How long a scrape waits for the workers' snapshots. */
const METRICS_TIMEOUT_MS = 1000;

export interface ToWorker {
  type: 'apply' | 'drain' | 'close' | 'metrics';
  id: number;
  /** An IR delta (./ir-delta.ts): the ports and clusters that changed, key material included (ir/keys.ts). */
  delta?: string;
  graceMs?: number;
}
export interface FromWorker {
  type: 'ready' | 'done' | 'log' | 'metrics';
  /** type 'metrics': the worker's registry snapshot (null when metrics are off). */
  snapshot?: Snapshot | null;
  id?: number;
  error?: string;
  line?: string;
  unbound?: UnboundPort[];
  /** type 'done': the worker holds another IR version than the delta applies to; send it the whole state. */
  resync?: boolean;
}

function workerScript(): string {
  const self = new URL(import.meta.url);
  return new URL(self.pathname.endsWith('.ts') ? './worker.ts' : './worker.js', self).pathname;
}

interface Pending {
  waiting: Set<Worker>;
  error?: string;
  unbound: Map<string, UnboundPort>;
  resolve: (r: ApplyResult) => void;
  reject: (e: Error) => void;
}

export class ClusterEngine implements Engine {
  private workers = new Set<Worker>();
  private ready: Promise<void>;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private readonly deltas = new DeltaEncoder();
  private closing = false;
  private readonly env: Record<string, string>;
  private readonly m: DataplaneMetrics | null;
  /** Each live worker's last snapshot; counters of exited workers summed into `retired`. */
  private lastSnap = new Map<Worker, Snapshot>();
  private retired: Snapshot = [];
  private metricsWaiters = new Map<number, { waiting: Set<Worker>; done: () => void }>();

  constructor(private readonly options: EngineOptions, n: number) {
    this.m = options.metrics === false ? null : new DataplaneMetrics();
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    // The V8 serializer, not JSON: a 10,000-route IR is a ~10 MB delta string, which JSON framing
    // escaped in here and unescaped in every worker (~35 ms per 5 MB, on the start-up path and
    // every whole-state resend; the V8 serializer copies it in ~5 ms: bench/results/2026-12-02-malloc.md).
    cluster.setupPrimary({ exec: workerScript(), execArgv: workerExecArgv(process.execArgv), silent: false, serialization: 'advanced' });
    const opts = { ...options, accessLog: undefined, hasAccessLog: options.accessLog !== undefined };
    this.env = { PORTICO_ENGINE_OPTIONS: JSON.stringify(opts), ...mallocEnv() };
    const readies: Promise<void>[] = [];
    for (let i = 0; i < n; i++) readies.push(this.spawn());
    this.ready = Promise.all(readies).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  private spawn(): Promise<void> {
    const w = cluster.fork(this.env);
    this.workers.add(w);
    w.on('error', () => undefined); // EPIPE while a worker exits is not ours to crash on
    return new Promise((resolve, reject) => {
      let up = false;
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          up = true;
          resolve();
        } else if (m.type === 'log' && m.line) this.options.accessLog?.(m.line);
        else if (m.type === 'metrics' && m.id !== undefined) {
          if (m.snapshot) this.lastSnap.set(w, m.snapshot.filter((f) => !PRIMARY_FAMILIES.has(f.name)));
          const waiter = this.metricsWaiters.get(m.id);
          if (waiter && waiter.waiting.delete(w) && waiter.waiting.size === 0) waiter.done();
        }
        else if (m.type === 'done' && m.id !== undefined && m.resync) this.resync(m.id, w);
        else if (m.type === 'done' && m.id !== undefined) this.settle(m.id, w, m.error, m.unbound);
      });
      w.once('exit', (code) => {
        this.workers.delete(w);
        const last = this.lastSnap.get(w);
        if (last) {
          this.retired = merge([this.retired, last], true);
          this.lastSnap.delete(w);
        }
        for (const waiter of this.metricsWaiters.values()) if (waiter.waiting.delete(w) && waiter.waiting.size === 0) waiter.done();
        // Whatever this worker was asked, it will not answer.
        for (const id of [...this.pending.keys()]) this.settle(id, w, this.closing ? undefined : `worker exited with ${code}`);
        if (!up) return reject(new Error(`worker exited with ${code} before it was ready`));
        if (!this.closing) void this.replace();
      });
    });
  }

  private async replace(): Promise<void> {
    try {
      const w = this.spawn();
      await w;
      const fresh = [...this.workers].at(-1);
      const full = this.deltas.full();
      if (full && fresh) await this.broadcast({ type: 'apply', delta: full }, [fresh]);
    } catch {
      // the next apply() reports a persistent failure
    }
  }

  /** A worker could not apply a delta to what it holds: the same request again, with the whole state. */
  private resync(id: number, w: Worker): void {
    const full = this.deltas.full();
    if (!this.pending.get(id)?.waiting.has(w)) return;
    if (!full) return this.settle(id, w, 'no configuration to resend');
    try {
      w.send({ type: 'apply', id, delta: full } satisfies ToWorker);
    } catch {
      this.settle(id, w, 'worker unreachable');
    }
  }

  private settle(id: number, w: Worker, error?: string, unbound?: UnboundPort[]): void {
    const p = this.pending.get(id);
    if (!p || !p.waiting.delete(w)) return;
    if (error && !p.error) p.error = error;
    for (const u of unbound ?? []) if (!p.unbound.has(u.port)) p.unbound.set(u.port, u);
    if (p.waiting.size > 0) return;
    this.pending.delete(id);
    if (p.error) p.reject(new Error(p.error));
    else p.resolve({ unbound: [...p.unbound.values()] });
  }

  private broadcast(msg: Omit<ToWorker, 'id'>, to?: Worker[]): Promise<ApplyResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const alive = (to ?? [...this.workers]).filter((w) => w.isConnected());
      if (!alive.length) return reject(new Error('no live workers'));
      this.pending.set(id, { waiting: new Set(alive), unbound: new Map(), resolve, reject });
      for (const w of alive) {
        try {
          w.send({ ...msg, id });
        } catch {
          this.settle(id, w, 'worker unreachable');
        }
      }
    });
  }

  async apply(ir: IR): Promise<ApplyResult> {
    await this.ready;
    const apply = () => this.broadcast({ type: 'apply', delta: this.deltas.encode(ir).text });
    // The primary's garbage from reading, translating and encoding the config (heap-flags.ts).
    releaseMemoryWhenQuiet();
    return this.m ? this.m.countApply(apply) : apply();
  }

  /** Every worker's snapshot summed, plus what exited workers counted, plus the primary's apply figures. */
  async metrics(): Promise<Snapshot | null> {
    if (!this.m) return null;
    const alive = [...this.workers].filter((w) => w.isConnected());
    if (alive.length) {
      const id = this.nextId++;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, METRICS_TIMEOUT_MS);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.metricsWaiters.set(id, { waiting: new Set(alive), done });
        for (const w of alive) {
          try {
            w.send({ type: 'metrics', id } satisfies ToWorker);
          } catch {
            // answered by its last snapshot
          }
        }
      });
      this.metricsWaiters.delete(id);
    }
    return merge([this.m.registry.snapshot(), this.retired, ...this.lastSnap.values()]);
  }

  drain(): void {
    void this.ready.then(() => this.broadcast({ type: 'drain' })).catch(() => undefined);
  }

  async close(graceMs = 5000): Promise<void> {
    this.closing = true;
    try {
      await this.ready;
      await Promise.race([this.broadcast({ type: 'close', graceMs }), new Promise((r) => setTimeout(r, graceMs + 1000).unref())]);
    } catch {
      // workers already gone
    }
    await Promise.all([...this.workers].map((w) => new Promise<void>((r) => {
      if (w.isDead()) return r();
      w.once('exit', () => r());
      if (w.isConnected()) {
        try {
          w.disconnect();
        } catch {
          // already going away
        }
      }
      setTimeout(() => w.process.kill(), 2000).unref();
    })));
  }
}
