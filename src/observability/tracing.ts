// W3C trace context and span export over OTLP/HTTP (JSON encoding, POST <endpoint>/v1/traces).
//
// A small exporter of our own rather than the @opentelemetry packages: the hot path does nothing
// when tracing is off (the front ends test `opts.tracer`, null), and with tracing on an unsampled
// request costs one header scan. A sampled request gets a span: our span id replaces the parent id
// in the `traceparent` sent upstream (the caller's trace id kept, or a new trace when there was
// none); `tracestate` goes through untouched. Sampling is parent-based: a caller's sampled flag is
// followed, a request without a valid `traceparent` is sampled with the configured ratio.
// Spans are batched (up to 512, or every second) and posted by each worker process.

import { randomBytes } from 'node:crypto';
import type { AccessRecord } from './access-log.js';
import { LOCAL_REASONS } from './metrics/dataplane.js';

/** Serialisable (it travels to workers in PORTICO_ENGINE_OPTIONS). */
export interface TracingOptions {
  /** OTLP/HTTP endpoint: `http://collector:4318` (then /v1/traces is appended) or the full traces URL. */
  endpoint: string;
  /** Fraction of requests without a sampled parent that start a trace, 0..1 (default 1). */
  sampling?: number;
  /** service.name resource attribute (default "portico"). */
  serviceName?: string;
}

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
  private batch: object[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inflight = new Set<Promise<void>>();
  /** Spans dropped because 4 posts were already in flight. */
  dropped = 0;

  constructor(o: TracingOptions) {
    this.ratio = o.sampling === undefined ? 1 : Math.max(0, Math.min(1, o.sampling));
    const u = new URL(o.endpoint);
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1/traces';
    this.url = u.toString();
    this.serviceName = o.serviceName ?? 'portico';
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
    if (this.batch.length >= 512) this.flush();
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
      if (this.inflight.size >= 4) {
        this.dropped += spans.length;
        return Promise.all(this.inflight).then(() => undefined);
      }
      const body = JSON.stringify({
        resourceSpans: [{
          resource: { attributes: [{ key: 'service.name', value: { stringValue: this.serviceName } }] },
          scopeSpans: [{ scope: { name: 'portico' }, spans }],
        }],
      });
      const p: Promise<void> = fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(5000) })
        .then((r) => r.body?.cancel())
        .catch(() => undefined)
        .finally(() => this.inflight.delete(p));
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
