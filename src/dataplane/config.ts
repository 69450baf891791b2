// One applied IR, compiled: per-port routers and run-time clusters. Immutable after build;
// apply() builds a new one and swaps a single reference.

import type { IR } from '../ir/types.js';
import { keysBetween } from '../ir/record-patch.js';
import { Matchers, PortRouter, type CompiledListener } from './router/tables.js';
import { RuntimeCluster } from './upstream/cluster.js';
import type { DataplaneMetrics } from '../observability/metrics/dataplane.js';

export class RuntimeConfig {
  readonly clusters: ReadonlyMap<string, RuntimeCluster>;
  readonly routers = new Map<string, PortRouter>();
  private readonly metrics: DataplaneMetrics | null;
  /** The engine's compiled matchers, handed from each config to the next (router/tables.ts). */
  private readonly matchers: Matchers;

  constructor(readonly ir: IR, previous?: RuntimeConfig, metrics: DataplaneMetrics | null = null) {
    // A cluster or port that is the same object as in the previous IR (shared, not copied, by
    // translate/incremental.ts and ./ir-delta.ts) keeps what was compiled from it; the very same
    // clusters record keeps the whole map (configs are immutable once built, so they share it).
    const same = previous?.metrics === metrics ? previous : undefined;
    this.metrics = metrics;
    this.clusters = same && same.ir.clusters === ir.clusters ? same.clusters : compileClusters(ir, previous, same);
    this.matchers = same?.matchers ?? new Matchers();
    this.matchers.nextApply();
    let byListener: Map<string, CompiledListener> | undefined;
    const elsewhere = (name: string): CompiledListener | undefined => {
      if (!byListener) {
        byListener = new Map();
        for (const r of same?.routers.values() ?? [])
          for (const l of r.port.listeners) {
            const c = r.listeners.exact(l.hostname);
            if (c) byListener.set(l.name, c);
          }
      }
      const l = byListener.get(name);
      return l?.listener.name === name ? l : undefined;
    };
    for (const port of ir.ports) {
      if (port.protocol !== 'HTTP' && port.protocol !== 'HTTPS') continue;
      const old = same?.routers.get(port.name);
      this.routers.set(port.name, old && old.port === port ? old : new PortRouter(port, metrics, old, this.matchers, elsewhere));
    }
  }
}

function compileClusters(ir: IR, previous: RuntimeConfig | undefined, same: RuntimeConfig | undefined): Map<string, RuntimeCluster> {
  // A few clusters replaced in the same record (an EndpointSlice change, ir/record-patch.ts): the rest are the same objects.
  const patched = same && keysBetween(ir.clusters, same.ir.clusters);
  if (patched) {
    const clusters = new Map(same.clusters);
    for (const name of patched) {
      const c = ir.clusters[name]!;
      if (same.ir.clusters[name] !== c) clusters.set(name, new RuntimeCluster(c, same.clusters.get(name)?.rrState ?? 0));
    }
    return clusters;
  }
  const clusters = new Map<string, RuntimeCluster>();
  for (const [name, c] of Object.entries(ir.clusters)) {
    const old = previous?.clusters.get(name);
    if (old && same?.ir.clusters[name] === c) clusters.set(name, old);
    // Carry the round-robin position over so frequent applies do not pin traffic to endpoint 0.
    else clusters.set(name, new RuntimeCluster(c, old?.rrState ?? 0));
  }
  return clusters;
}

/**
 * The engine's limits and their defaults, in one place (EngineOptions fields of the same names;
 * the table in dataplane/README.md). The HTTP/2 front end sets every one of its limits explicitly
 * on each session (http2/server.ts), never leaving them to Node's or nghttp2's defaults.
 * h2MaxHeaderListSize and h2IdleTimeoutMs default to maxHeaderBytes and idleTimeoutMs.
 */
export const DEFAULT_LIMITS = {
  maxHeaderBytes: 16 * 1024,
  maxHeaderCount: 100,
  requestHeadTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  h2MaxConcurrentStreams: 100,
  h2MaxSessionMemoryMb: 64,
  h2StreamResetBurst: 1000,
  h2StreamResetRate: 33,
  h2MaxSessionInvalidFrames: 1000,
  h2MaxSessionRejectedStreams: 100,
} as const;

/** The HTTP/2 front end's limits, resolved (see DEFAULT_LIMITS). */
export interface Http2Limits {
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised; a stream past it is refused. */
  maxConcurrentStreams: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE advertised and enforced (HPACK size: name + value + 32 per field). */
  maxHeaderListSize: number;
  /** Header fields per request, pseudo-headers included (node:http2 maxHeaderListPairs). */
  maxHeaderListPairs: number;
  /** MB nghttp2 may hold per session (buffers, queued frames); past it new streams get ENHANCE_YOUR_CALM. */
  maxSessionMemoryMb: number;
  /** A session without a frame either way for this long is closed with GOAWAY. */
  idleTimeoutMs: number;
  /** Inbound RST_STREAM token bucket (Rapid Reset, CVE-2023-44487): burst, then per second. */
  streamResetBurst: number;
  streamResetRate: number;
  /** Invalid frames, and streams the session refused, before the session is destroyed. */
  maxSessionInvalidFrames: number;
  maxSessionRejectedStreams: number;
}

export function resolveHttp2Limits(o: {
  maxHeaderBytes: number;
  maxHeaderCount: number;
  idleTimeoutMs: number;
  h2MaxConcurrentStreams?: number;
  h2MaxHeaderListSize?: number;
  h2MaxSessionMemoryMb?: number;
  h2IdleTimeoutMs?: number;
  h2StreamResetBurst?: number;
  h2StreamResetRate?: number;
  h2MaxSessionInvalidFrames?: number;
  h2MaxSessionRejectedStreams?: number;
}): Http2Limits {
  const d = DEFAULT_LIMITS;
  return {
    maxConcurrentStreams: o.h2MaxConcurrentStreams ?? d.h2MaxConcurrentStreams,
    maxHeaderListSize: o.h2MaxHeaderListSize ?? o.maxHeaderBytes,
    // node:http2 counts the 4 request pseudo-headers too, and rejects values below 4.
    maxHeaderListPairs: Math.max(4, o.maxHeaderCount),
    maxSessionMemoryMb: o.h2MaxSessionMemoryMb ?? d.h2MaxSessionMemoryMb,
    idleTimeoutMs: o.h2IdleTimeoutMs ?? o.idleTimeoutMs,
    streamResetBurst: o.h2StreamResetBurst ?? d.h2StreamResetBurst,
    streamResetRate: o.h2StreamResetRate ?? d.h2StreamResetRate,
    maxSessionInvalidFrames: o.h2MaxSessionInvalidFrames ?? d.h2MaxSessionInvalidFrames,
    maxSessionRejectedStreams: o.h2MaxSessionRejectedStreams ?? d.h2MaxSessionRejectedStreams,
  };
}
