// What a front end (HTTP/1.1 connection, HTTP/2 session) needs from its port and engine.

import type { Http2Limits, RuntimeConfig } from './config.js';
import type { Port } from '../ir/types.js';
import type { PortRouter } from './router/tables.js';
import type { Pool } from './upstream/pool.js';
import type { H2Pool } from './upstream/h2.js';
import type { PathOptions } from './path.js';
import type { DataplaneMetrics } from '../observability/metrics/dataplane.js';
import type { AccessLogger } from '../observability/access-log.js';
import type { Tracer } from '../observability/tracing.js';

export interface ResolvedOptions {
  maxHeaderBytes: number;
  maxHeaderCount: number;
  requestHeadTimeoutMs: number;
  idleTimeoutMs: number;
  /** The HTTP/2 front end's limits (config.ts DEFAULT_LIMITS). */
  h2: Http2Limits;
  /** How request paths are normalised before matching. */
  path: PathOptions;
  accessLog: ((line: string) => void) | undefined;
  /** The HTTP access log (formatting, sampling) over `accessLog`; null when the log is off. */
  logger: AccessLogger | null;
  /** x-request-id handling: REQUEST_ID_OFF / _PRESERVE / _GENERATE (observability/access-log.ts). */
  requestId: number;
  /** W3C trace context and OTLP span export; null when tracing is off. */
  tracer: Tracer | null;
  /** The engine's metric families; null when metrics are off. */
  metrics: DataplaneMetrics | null;
}

export interface Shared {
  opts: ResolvedOptions;
  pool: Pool;
  h2pool: H2Pool;
}

export interface PortContext {
  /** The IR port this context serves (metrics label it by name). */
  readonly port?: Port;
  readonly listenerPort: number;
  readonly scheme: 'http' | 'https';
  /** Swapped by apply(); a request reads both once, when its head is complete. */
  cfg: RuntimeConfig;
  router: PortRouter;
  /** The port was removed: finish the current request, then close. */
  draining: boolean;
  readonly shared: Shared;
}

export function clientAddress(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

const REASONS: Record<number, string> = {
  200: 'OK', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 303: 'See Other', 307: 'Temporary Redirect',
  308: 'Permanent Redirect', 400: 'Bad Request', 404: 'Not Found', 408: 'Request Timeout', 413: 'Payload Too Large', 421: 'Misdirected Request',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable',
  504: 'Gateway Timeout',
};
export const reason = (s: number): string => REASONS[s] ?? 'Status';
