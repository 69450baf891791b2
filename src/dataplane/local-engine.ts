// The engine inside one process: owns the port sockets, swaps compiled configs on apply().

import type { IR, Port } from '../ir/types.js';
import { DEFAULT_LIMITS, resolveHttp2Limits, RuntimeConfig } from './config.js';
import type { ResolvedOptions, Shared } from './context.js';
import type { ApplyResult, Engine, EngineOptions, UnboundPort } from './engine-api.js';
import { HttpPort } from './http-port.js';
import type { CreateL4Server, L4Server } from './l4/api.js';
import { Pool } from './upstream/pool.js';
import { H2Pool } from './upstream/h2.js';
import { loadUpstreamTls } from './upstream/tls-loader.js';
import { resolvePathOptions } from './path.js';
import { backendLabel, DataplaneMetrics } from '../observability/metrics/dataplane.js';
import type { Snapshot } from '../observability/metrics/registry.js';
import { AccessLogger, requestIdMode } from '../observability/access-log.js';
import { Tracer } from '../observability/tracing.js';
import { releaseMemoryWhenQuiet } from './heap-flags.js';

interface L4Handle {
  kind: 'l4';
  port: Port;
  server: L4Server;
}
type PortHandle = { kind: 'http'; port: Port; server: HttpPort } | L4Handle;

export function resolveOptions(o: EngineOptions): ResolvedOptions {
  const maxHeaderBytes = o.maxHeaderBytes ?? DEFAULT_LIMITS.maxHeaderBytes;
  const maxHeaderCount = o.maxHeaderCount ?? DEFAULT_LIMITS.maxHeaderCount;
  const idleTimeoutMs = o.idleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs;
  const metrics = o.metrics === false ? null : new DataplaneMetrics();
  return {
    maxHeaderBytes,
    maxHeaderCount,
    requestHeadTimeoutMs: o.requestHeadTimeoutMs ?? DEFAULT_LIMITS.requestHeadTimeoutMs,
    idleTimeoutMs,
    h2: resolveHttp2Limits({ ...o, maxHeaderBytes, maxHeaderCount, idleTimeoutMs }),
    path: resolvePathOptions(o.pathEscapedSlashes, o.pathMergeSlashes),
    accessLog: o.accessLog,
    logger: o.accessLog ? new AccessLogger(o.accessLog, o.accessLogFormat) : null,
    requestId: requestIdMode(o.requestId),
    tracer: o.tracing ? new Tracer(o.tracing, metrics) : null,
    metrics,
  };
}

let l4Factory: Promise<CreateL4Server> | null = null;
function loadL4(): Promise<CreateL4Server> {
  // Lazy: the HTTP engine must work even where the L4 module is absent.
  l4Factory ??= import('./l4/index.js').then((m: { createL4Server: CreateL4Server }) => m.createL4Server);
  return l4Factory;
}

const endpointOf = (p: Port): string => `${p.address}:${p.port}`;

export class LocalEngine implements Engine {
  private readonly shared: Shared;
  private cfg: RuntimeConfig | undefined;
  private ports = new Map<string, PortHandle>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: EngineOptions) {
    this.shared = { opts: resolveOptions(options), pool: new Pool(), h2pool: new H2Pool() };
    const m = this.shared.opts.metrics;
    if (m) {
      // Gauges computed when scraped, from the config being served and the pool.
      m.endpointsReady.collect = () => {
        m.endpointsReady.reset();
        m.poolIdle.reset();
        m.poolActive.reset();
        const seen = new Set<string>();
        for (const c of this.cfg?.clusters.values() ?? []) {
          const label = backendLabel(c.name);
          const ready = m.endpointsReady.child([label]);
          ready.v = Math.max(ready.v, c.endpoints.length);
          if (c.protocol === 'tcp' || c.protocol === 'udp') continue;
          let idle = 0;
          let open = 0;
          for (const k of c.usedKeys()) {
            if (seen.has(k)) continue;
            seen.add(k);
            idle += this.shared.pool.idleCount(k);
            open += this.shared.pool.open.get(k) ?? 0;
          }
          m.poolIdle.child([label]).v += idle;
          m.poolActive.child([label]).v += Math.max(0, open - idle);
        }
      };
      m.poolIdle.collect = m.poolActive.collect = undefined;
    }
  }

  /** This process's metrics (a worker's, or the whole engine's with one process). */
  metrics(): Promise<Snapshot | null> {
    return Promise.resolve(this.snapshotNow());
  }

  snapshotNow(): Snapshot | null {
    return this.shared.opts.metrics?.registry.snapshot() ?? null;
  }

  apply(ir: IR): Promise<ApplyResult> {
    // Applies run one at a time, in call order.
    const run = this.queue.then(() => this.timedApply(ir));
    this.queue = run.then(
      () => releaseMemoryWhenQuiet(),
      () => undefined,
    );
    return run;
  }

  /** Port actually bound for an IR port name (tests ask for port 0). */
  boundPort(name: string): number | undefined {
    const h = this.ports.get(name);
    return h?.kind === 'http' ? h.server.boundPort() : h?.port.port;
  }

  private async timedApply(ir: IR): Promise<ApplyResult> {
    const m = this.shared.opts.metrics;
    return m ? m.countApply(() => this.doApply(ir)) : this.doApply(ir);
  }

  private async doApply(ir: IR): Promise<ApplyResult> {
    if (this.closed) throw new Error('engine closed');
    await loadUpstreamTls();
    const cfg = new RuntimeConfig(ir, this.cfg, this.shared.opts.metrics);
    const wanted = new Map(ir.ports.map((p) => [p.name, p]));
    const removed = [...this.ports.values()].filter((h) => !wanted.has(h.port.name));
    const created: PortHandle[] = [];
    // A removed port whose address:port a new port reuses (protocol change) must free it first.
    const newEndpoints = new Set(ir.ports.filter((p) => !this.ports.has(p.name)).map(endpointOf));
    const early = removed.filter((h) => newEndpoints.has(endpointOf(h.port)));
    for (const h of early) {
      this.ports.delete(h.port.name);
      await closeHandle(h, 0);
    }
    // A port that cannot bind (taken by another process, address gone) is left out: the rest
    // of the config still applies, and the next apply tries it again.
    const unbound: UnboundPort[] = [];
    for (const p of ir.ports) {
      if (this.ports.has(p.name)) continue;
      let server: HttpPort | L4Server | undefined;
      try {
        if (p.protocol === 'HTTP' || p.protocol === 'HTTPS') {
          server = new HttpPort(p, cfg, this.shared);
          await server.listen();
          created.push({ kind: 'http', port: p, server });
        } else {
          const create = await loadL4();
          server = await create(p, ir.clusters, { accessLog: this.shared.opts.accessLog, metrics: this.shared.opts.metrics ?? undefined });
          created.push({ kind: 'l4', port: p, server });
        }
      } catch (err) {
        if (server instanceof HttpPort) await server.close(0).catch(() => undefined);
        unbound.push({ port: p.name, error: bindError(err) });
      }
    }
    // Swap: everything below is synchronous, so no request sees half of it.
    this.cfg = cfg;
    for (const p of ir.ports) {
      const h = this.ports.get(p.name);
      if (!h) continue;
      if (h.kind === 'http') h.server.update(p, cfg);
      else h.server.update(p, ir.clusters);
      h.port = p;
    }
    for (const h of created) this.ports.set(h.port.name, h);
    for (const h of removed) if (!early.includes(h)) this.ports.delete(h.port.name);
    // Removed ports drain in the background.
    for (const h of removed) if (!early.includes(h)) void closeHandle(h, 30_000);
    return { unbound };
  }

  drain(): void {
    for (const h of this.ports.values()) if (h.kind === 'http') h.server.drain();
  }

  async close(graceMs = 5000): Promise<void> {
    await this.queue;
    this.closed = true;
    const all = [...this.ports.values()];
    this.ports.clear();
    await Promise.all(all.map((h) => closeHandle(h, graceMs)));
    this.shared.pool.close();
    this.shared.h2pool.close();
    await this.shared.opts.tracer?.flush();
  }
}

/** The OS's word for a failed bind (EADDRINUSE, EADDRNOTAVAIL, EACCES), else the message. */
function bindError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  return e?.cause?.code ?? e?.code ?? /\b(E[A-Z]{3,})\b/.exec(String(e?.message))?.[1] ?? String(e?.message ?? err);
}

function closeHandle(h: PortHandle, graceMs: number): Promise<void> {
  return h.server.close(graceMs).catch(() => undefined);
}
