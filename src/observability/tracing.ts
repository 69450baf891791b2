// W3C trace context and span export over OTLP/HTTP (JSON encoding, POST <endpoint>/v1/traces).
//
// A small exporter of our own rather than the @opentelemetry packages: the hot path does nothing
// when tracing is off (the front ends test `opts.tracer`, null), and with tracing on an unsampled
// request costs one header scan. A sampled request gets a span: our span id replaces the parent id
// in the `traceparent` sent upstream (the caller's trace id kept, or a new trace when there was
// none); `tracestate` goes through untouched. Sampling is parent-based: a caller's sampled flag is
// followed, a request without a valid `traceparent` is sampled with the configured ratio.
// Spans are batched (up to 512, or every second) and posted by each worker process. Memory stays
// bounded whatever the collector does: at most one open batch and 4 posts in flight (each cut after
// 5 s); past that a batch is dropped, and every span that never reached the collector is counted
// (portico_trace_spans_dropped_total{reason}).

import { randomBytes } from 'node:crypto';
import type { AccessRecord } from './access-log.js';
import { LOCAL_REASONS } from './metrics/dataplane.js';
import type { Cell, Family } from './metrics/registry.js';

/** Serialisable (it travels to workers in PORTICO_ENGINE_OPTIONS). */
export interface TracingOptions {
  /** OTLP/HTTP endpoint: `http://collector:4318` (then /v1/traces is appended) or the full traces URL. */
  endpoint: string;
  /** Fraction of requests without a sampled parent that start a trace, 0..1 (default 1). */
  sampling?: number;
  /** service.name resource attribute (default "portico"). */
  serviceName?: string;
  /** Spans per post (default 512; OTel's maxExportBatchSize). */
  batchSize?: number;
  /** A post not answered within this many ms is abandoned and its spans dropped (default 5000). */
  exportTimeoutMs?: number;
}

/** Where the exporter counts its outcomes (metrics/dataplane.ts); absent with --metrics off. */
export interface TraceCounters {
  spansExported: Cell;
  spansDropped: Family<Cell>;
  spansPending: Cell;
}

/** Posts in flight before a batch is dropped instead of posted. */
const MAX_INFLIGHT = 4;

export interface Span {
  traceId: string;
  spanId: string;
  /** The caller's span id, '' for a root span. */
  parentId: string;
  /** Wall clock start in ms (performance.timeOrigin + performance.now()). */
  startMs: number;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO32 = '0'.repeat(32);
const ZERO16 = '0'.repeat(16);

// Random ids from a pooled buffer: one randomBytes call per 512 ids.
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomHex(bytes: number): string {
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const s = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return s;
}

export class Tracer {
  private readonly ratio: number;
  private readonly url: string;
  private readonly serviceName: string;
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private batch: object[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inflight = new Set<Promise<void>>();
  private readonly exported: Cell;
  private readonly queueFull: Cell;
  private readonly failed: Cell;
  /** Spans held in memory: the open batch and the posts in flight (at most batchSize x (1 + 4)). */
  readonly pending: Cell;

  constructor(o: TracingOptions, counters?: TraceCounters | null) {
    this.ratio = o.sampling === undefined ? 1 : Math.max(0, Math.min(1, o.sampling));
    const u = new URL(o.endpoint);
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/traces';
    this.url = u.toString();
    this.serviceName = o.serviceName ?? 'portico';
    this.batchSize = Math.max(1, o.batchSize ?? 512);
    this.timeoutMs = o.exportTimeoutMs ?? 5000;
    // With metrics off the counts still exist (plain cells), they are just not exported.
    this.exported = counters?.spansExported ?? { v: 0 };
    this.queueFull = counters?.spansDropped.child(['queue_full']) ?? { v: 0 };
    this.failed = counters?.spansDropped.child(['export_failed']) ?? { v: 0 };
    this.pending = counters?.spansPending ?? { v: 0 };
  }

  /**
   * Starts a span for a request when it is sampled, rewriting (or adding) `traceparent` in the
   * flat [name, value, ...] headers the backend will receive. null = not traced (headers untouched).
   */
  start(headers: string[]): Span | null {
    let at = -1;
    for (let i = 0; i < headers.length; i += 2) {
      if (headers[i] === 'traceparent') {
        at = i;
        break;
      }
    }
    let traceId = '';
    let parentId = '';
    if (at >= 0) {
      const m = TRACEPARENT.exec(headers[at + 1]!);
      if (m && m[1] !== 'ff' && m[2] !== ZERO32 && m[3] !== ZERO16) {
        if ((parseInt(m[4]!, 16) & 1) === 0) return null; // the caller decided: not sampled
        traceId = m[2]!;
        parentId = m[3]!;
      }
    }
    if (!traceId) {
      if (this.ratio <= 0 || (this.ratio < 1 && Math.random() >= this.ratio)) return null;
      traceId = randomHex(16);
    }
    const spanId = randomHex(8);
    const tp = `00-${traceId}-${spanId}-01`;
    if (at >= 0) headers[at + 1] = tp;
    else headers.push('traceparent', tp);
    return { traceId, spanId, parentId, startMs: performance.timeOrigin + performance.now() };
  }

  /** Ends a span with the request's figures (the access log's record) and queues it for export. */
  end(s: Span, r: AccessRecord): void {
    const endMs = performance.timeOrigin + performance.now();
    const attrs: object[] = [];
    const str = (key: string, v: string) => v && attrs.push({ key, value: { stringValue: v } });
    const int = (key: string, v: number) => attrs.push({ key, value: { intValue: String(v) } });
    const l = r.listener?.name ?? '';
    const slash = l.lastIndexOf('/');
    str('http.request.method', r.method);
    str('url.path', r.path);
    str('server.address', r.authority);
    str('network.protocol.name', 'http');
    str('network.protocol.version', r.protocol.slice(5));
    if (r.status) int('http.response.status_code', r.status);
    str('client.address', r.client);
    str('portico.gateway', slash < 0 ? '' : l.slice(0, slash));
    str('portico.listener', slash < 0 ? l : l.slice(slash + 1));
    if (r.source) {
      str('portico.route', `${r.source.kind}/${r.source.namespace}/${r.source.name}`);
      int('portico.rule', r.source.rule);
    }
    str('portico.backend', r.backend);
    str('portico.endpoint', r.endpoint);
    if (r.upstreamStatus > 0) int('portico.upstream_status', r.upstreamStatus);
    if (r.retries > 0) int('portico.retries', r.retries);
    if (r.local >= 0) str('portico.local_reason', LOCAL_REASONS[r.local]!);
    str('portico.request_id', r.requestId);
    const route = r.source ? `${r.source.kind}/${r.source.namespace}/${r.source.name}` : '';
    this.batch.push({
      traceId: s.traceId,
      spanId: s.spanId,
      ...(s.parentId ? { parentSpanId: s.parentId } : {}),
      name: route ? `${r.method} ${route}` : r.method,
      kind: 2, // SPAN_KIND_SERVER
      startTimeUnixNano: nanos(s.startMs),
      endTimeUnixNano: nanos(endMs),
      attributes: attrs,
      status: r.status >= 500 || r.status === 0 ? { code: 2 } : { code: 0 },
    });
    this.pending.v++;
    if (this.batch.length >= this.batchSize) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), 1000);
      this.timer.unref();
    }
  }

  /** Posts what is queued; resolves when every post in flight has finished (or failed: spans are dropped, never retried). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.batch.length) {
      const spans = this.batch;
      this.batch = [];
      // A slow or unreachable collector must not grow memory: past 4 posts in flight, a batch is dropped.
      if (this.inflight.size >= MAX_INFLIGHT) {
        this.queueFull.v += spans.length;
        this.pending.v -= spans.length;
        return Promise.all(this.inflight).then(() => undefined);
      }
      const body = JSON.stringify({
        resourceSpans: [{
          resource: { attributes: [{ key: 'service.name', value: { stringValue: this.serviceName } }] },
          scopeSpans: [{ scope: { name: 'portico' }, spans }],
        }],
      });
      const n = spans.length;
      const p: Promise<void> = fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.timeoutMs) })
        .then((r) => {
          void r.body?.cancel().catch(() => undefined);
          // OTLP/HTTP: a non-2xx answer (refused, throttled) means the spans were not accepted.
          if (r.ok) this.exported.v += n;
          else this.failed.v += n;
        })
        .catch(() => {
          this.failed.v += n;
        })
        .finally(() => {
          this.pending.v -= n;
          this.inflight.delete(p);
        });
      this.inflight.add(p);
    }
    return Promise.all(this.inflight).then(() => undefined);
  }
}

function nanos(ms: number): string {
  // ms with a fraction, as an integer string of nanoseconds (beyond 2^53: BigInt).
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(frac)).toString();
}
