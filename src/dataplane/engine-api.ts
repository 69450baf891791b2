// The contract between the controller loop (file or Kubernetes mode) and the data plane.
// The implementation lives in ./engine.ts.

import type { IR } from '../ir/types.js';
import type { Snapshot } from '../observability/metrics/registry.js';
import type { AccessLogFormat, RequestIdMode } from '../observability/access-log.js';
import type { TracingOptions } from '../observability/tracing.js';
import type { EscapedSlashesAction, MergeSlashesAction } from './path.js';

export interface Engine {
  /**
   * Serve `ir` from now on. Atomic: requests in flight finish on the tables they started
   * with; sockets whose Port (same name) is still present stay open; removed ports close
   * after draining. Resolves once every new socket is listening or has failed to bind: those
   * ports are left out and named in the result, everything else is applied, and the next
   * apply tries them again. Rejects only when nothing can be applied (engine closed, no live
   * workers), keeping the previous config serving.
   */
  apply(ir: IR): Promise<ApplyResult>;
  /**
   * Shutdown has begun: keep accepting and serving, but end HTTP/1.1 keep-alive connections after
   * their next response and send HTTP/2 GOAWAY, so clients move elsewhere before close().
   */
  drain?(): void;
  /** Stop accepting, drain in-flight requests (up to `graceMs`), close everything. */
  close(graceMs?: number): Promise<void>;
  /**
   * The engine's metrics (observability/metrics): one snapshot summed over every worker of the
   * process, counters of replaced workers included. Absent / null when metrics are off.
   */
  metrics?(): Promise<Snapshot | null>;
}

export interface UnboundPort {
  /** The IR Port's name, `${address}:${port}/${protocol}`. */
  port: string;
  /** Why its socket could not be bound, e.g. "EADDRINUSE". */
  error: string;
}

export interface ApplyResult {
  /** Ports whose socket could not be bound on this apply (in IR order). */
  unbound: UnboundPort[];
}

export interface EngineOptions {
  /** Access log sink; undefined = no access log. */
  accessLog?: (line: string) => void;
  /** HTTP access log lines: JSON (default), chosen fields or a format string, sampling (observability/access-log.ts). */
  accessLogFormat?: AccessLogFormat;
  /** `x-request-id`: `generate` (default) one when the request has none and send it upstream, `preserve` only log the client's, `off`. */
  requestId?: RequestIdMode;
  /** W3C traceparent/tracestate propagation and OTLP/HTTP span export (observability/tracing.ts); absent = off. */
  tracing?: TracingOptions;
  /** Prometheus metrics counted by the engine (default true); false leaves every counter out of the hot path. */
  metrics?: boolean;
  /** Limits; defaults are the engine's. */
  maxHeaderBytes?: number; // default 16 KiB -> 431
  maxHeaderCount?: number; // default 100 -> 431
  requestHeadTimeoutMs?: number; // default 10 s (slowloris) -> 408
  idleTimeoutMs?: number; // default 60 s keep-alive idle
  /** HTTP/2 front end (h2c and ALPN h2). Defaults: DEFAULT_LIMITS in config.ts; table in dataplane/README.md. */
  h2MaxConcurrentStreams?: number; // default 100 (SETTINGS_MAX_CONCURRENT_STREAMS; more are refused)
  h2MaxHeaderListSize?: number; // default maxHeaderBytes (SETTINGS_MAX_HEADER_LIST_SIZE)
  h2MaxSessionMemoryMb?: number; // default 64 MB per session
  h2IdleTimeoutMs?: number; // default idleTimeoutMs: a session with no frames either way gets GOAWAY
  h2StreamResetBurst?: number; // default 1000 inbound RST_STREAM at once (Rapid Reset) ...
  h2StreamResetRate?: number; // ... then 33 per second; past it the session ends
  h2MaxSessionInvalidFrames?: number; // default 1000 invalid frames, then the session is destroyed
  h2MaxSessionRejectedStreams?: number; // default 100 refused streams, then the session is destroyed
  /** Path normalisation (path.ts): `%2F`, `%5C` and `\` in the path. Default unescape-and-redirect (307). */
  pathEscapedSlashes?: EscapedSlashesAction;
  /** Path normalisation (path.ts): repeated slashes. Default merge-and-forward. */
  pathMergeSlashes?: MergeSlashesAction;
}
