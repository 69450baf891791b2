// RequestMirror: a copy of the request goes to the mirror backend, fire-and-forget. The mirror
// never delays or fails the main request: its body writes ignore backpressure up to a cap
// (then the mirror is abandoned), its response is discarded, its errors are swallowed.
// The copy speaks what the mirror's cluster speaks: HTTP/1.1, HTTPS with the cluster's
// BackendTLSPolicy settings, or HTTP/2 (h2c / h2, gRPC mirrors) over the shared sessions.

import type { ClientRequest } from 'node:http';
import * as https from 'node:https';
import type * as http2 from 'node:http2';
import type { HTTPFilter } from '../../ir/types.js';
import type { RuntimeConfig } from '../config.js';
import type { Plan } from '../plan.js';
import { http } from '../node-http.js';
import type { RuntimeCluster } from '../upstream/cluster.js';
import type { H2Pool } from '../upstream/h2.js';
import { upstreamTlsOptions } from '../upstream/tls-loader.js';
import type { DataplaneMetrics, RouteCells } from '../../observability/metrics/dataplane.js';

export type Mirror = Extract<HTTPFilter, { type: 'RequestMirror' }>;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 10_000 });
const tlsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, timeout: 10_000 });
const MAX_BUFFERED = 1 << 20;
const TIMEOUT_MS = 10_000;
/** Never copied to an HTTP/2 mirror (connection-specific in HTTP/2, RFC 9113 8.2.2). */
const H2_DROP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

export interface MirrorSink {
  write(chunk: Buffer): void;
  end(): void;
}

const noop = (): void => undefined;

export function startMirror(cfg: RuntimeConfig, h2pool: H2Pool, m: Mirror, plan: Plan, hasBody: boolean, metrics: DataplaneMetrics | null = null): MirrorSink | null {
  // Outcomes: "sent" when the copy is handed to a socket, "not_sent" without a cluster or endpoint;
  // "error" counts sent copies that then failed (connect error, reset, timeout).
  const cells = metrics ? metrics.mirrorFor(m) ?? null : null;
  const c = m.backend.cluster !== undefined ? cfg.clusters.get(m.backend.cluster) : undefined;
  const i = c ? c.next() : -1;
  if (!c || i < 0) {
    if (cells) cells.mirrorNotSent.v++;
    return null;
  }
  if (cells) cells.mirrorSent.v++;
  return c.protocol === 'h2c' || c.protocol === 'h2' ? mirrorH2(h2pool, c, i, plan, hasBody, cells) : mirrorH1(c, i, plan, hasBody, cells);
}

function mirrorH1(c: RuntimeCluster, i: number, plan: Plan, hasBody: boolean, cells: RouteCells | null): MirrorSink | null {
  const ep = c.endpoints[i]!;
  const headers: Record<string, string | string[]> = {};
  for (let k = 0; k < plan.headers.length; k += 2) {
    const name = plan.headers[k]!;
    const v = plan.headers[k + 1]!;
    const prev = headers[name];
    headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  // The mirror sees the Host the primary backend sees (after URLRewrite).
  headers['host'] = plan.authority;
  let req: ClientRequest;
  try {
    const base = { host: ep.address, port: ep.port, method: plan.method, path: plan.target, headers, timeout: TIMEOUT_MS };
    req = c.tls ? https.request({ ...base, ...upstreamTlsOptions(c.tls), agent: tlsAgent }) : http.request({ ...base, agent });
  } catch {
    if (cells) cells.mirrorErrors.v++;
    return null;
  }
  req.on('error', cells ? () => void cells.mirrorErrors.v++ : noop);
  req.on('timeout', () => req.destroy());
  req.on('response', (res) => res.resume());
  if (!hasBody) {
    req.end();
    return null;
  }
  return {
    write(chunk: Buffer): void {
      if (req.destroyed) return;
      if (req.writableLength > MAX_BUFFERED) req.destroy();
      else req.write(chunk);
    },
    end(): void {
      if (!req.destroyed) req.end();
    },
  };
}

function mirrorH2(h2pool: H2Pool, c: RuntimeCluster, i: number, plan: Plan, hasBody: boolean, cells: RouteCells | null): MirrorSink | null {
  const headers: http2.OutgoingHttpHeaders = {
    ':method': plan.method,
    ':path': plan.target,
    ':authority': plan.authority,
    ':scheme': c.tls ? 'https' : 'http',
  };
  for (let k = 0; k < plan.headers.length; k += 2) {
    const name = plan.headers[k]!.toLowerCase();
    if (H2_DROP.has(name) || (name === 'te' && plan.headers[k + 1] !== 'trailers')) continue;
    const v = plan.headers[k + 1]!;
    const prev = headers[name];
    headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [String(prev), v];
  }
  let stream: http2.ClientHttp2Stream;
  try {
    stream = h2pool.request(c, i, headers, !hasBody);
  } catch {
    if (cells) cells.mirrorErrors.v++;
    return null;
  }
  stream.on('error', cells ? () => void cells.mirrorErrors.v++ : noop);
  stream.setTimeout(TIMEOUT_MS, () => stream.close());
  stream.resume(); // the response body is discarded
  if (!hasBody) return null;
  return {
    write(chunk: Buffer): void {
      if (stream.destroyed) return;
      if (stream.writableLength > MAX_BUFFERED) stream.close();
      else stream.write(chunk);
    },
    end(): void {
      if (!stream.destroyed) stream.end();
    },
  };
}
