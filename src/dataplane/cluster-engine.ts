// Multi-process engine: node:cluster workers, each a LocalEngine. The primary sends each IR
// to every worker over IPC; apply() resolves when all of them applied it (rejects with the
// first error). The OS balances accepted connections (SCHED_NONE): the primary only binds.

import cluster, { type Worker } from 'node:cluster';
import type { IR } from '../ir/types.js';
import type { Engine, EngineOptions } from './engine-api.js';

export interface ToWorker {
  type: 'apply' | 'close';
  id: number;
  ir?: IR;
  graceMs?: number;
}
export interface FromWorker {
  type: 'ready' | 'done' | 'log';
  id?: number;
  error?: string;
  line?: string;
}

function workerScript(): string {
  const self = new URL(import.meta.url);
  return new URL(self.pathname.endsWith('.ts') ? './worker.ts' : './worker.js', self).pathname;
}

export class ClusterEngine implements Engine {
  private workers: Worker[] = [];
  private ready: Promise<void>;
  private nextId = 1;
  private pending = new Map<number, { left: number; error?: string; resolve: () => void; reject: (e: Error) => void }>();

  constructor(private readonly options: EngineOptions, n: number) {
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: workerScript(), execArgv: process.execArgv, silent: false });
    const opts = { ...options, accessLog: undefined, hasAccessLog: options.accessLog !== undefined };
    const readies: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const w = cluster.fork({ PORTICO_ENGINE_OPTIONS: JSON.stringify(opts), PORTICO_WORKER_INDEX: String(i) }); // index: UDP ports are served by worker 0 only (l4/udp.ts)
      this.workers.push(w);
      w.on('error', () => undefined); // EPIPE while a worker exits is not ours to crash on
      readies.push(new Promise((resolve, reject) => {
        w.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
        w.on('message', (m: FromWorker) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'log' && m.line) this.options.accessLog?.(m.line);
          else if (m.type === 'done' && m.id !== undefined) this.settle(m.id, m.error);
        });
      }));
    }
    this.ready = Promise.all(readies).then(() => undefined);
    this.ready.catch(() => undefined);
  }

  private settle(id: number, error?: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    if (error && !p.error) p.error = error;
    if (--p.left > 0) return;
    this.pending.delete(id);
    if (p.error) p.reject(new Error(p.error));
    else p.resolve();
  }

  private broadcast(msg: Omit<ToWorker, 'id'>): Promise<void> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const alive = this.workers.filter((w) => w.isConnected());
      if (!alive.length) return reject(new Error('no live workers'));
      this.pending.set(id, { left: alive.length, resolve, reject });
      for (const w of alive) w.send({ ...msg, id });
    });
  }

  async apply(ir: IR): Promise<void> {
    await this.ready;
    await this.broadcast({ type: 'apply', ir });
  }

  async close(graceMs = 5000): Promise<void> {
    try {
      await this.ready;
      await this.broadcast({ type: 'close', graceMs });
    } catch {
      // workers already gone
    }
    await Promise.all(this.workers.map((w) => new Promise<void>((r) => {
      if (w.isDead()) return r();
      w.once('exit', () => r());
      if (w.isConnected()) {
        try {
          w.disconnect();
        } catch {
          // already going away
        }
      }
      setTimeout(() => w.process.kill(), graceMs + 2000).unref();
    })));
  }
}
