// RequestMirror: a copy of the request goes to the mirror backend, fire-and-forget. The mirror
// never delays or fails the main request: its body writes ignore backpressure up to a cap
// (then the mirror is abandoned), its response is discarded, its errors are swallowed.

import * as http from 'node:http';
import type { HTTPFilter } from '../../ir/types.js';
import type { RuntimeConfig } from '../config.js';
import type { Plan } from '../plan.js';

export type Mirror = Extract<HTTPFilter, { type: 'RequestMirror' }>;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 10_000 });
const MAX_BUFFERED = 1 << 20;

export interface MirrorSink {
  write(chunk: Buffer): void;
  end(): void;
}

const noop = (): void => undefined;

export function startMirror(cfg: RuntimeConfig, m: Mirror, plan: Plan, hasBody: boolean): MirrorSink | null {
  const c = m.backend.cluster !== undefined ? cfg.clusters.get(m.backend.cluster) : undefined;
  if (!c) return null;
  const i = c.next();
  if (i < 0) return null;
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
  let req: http.ClientRequest;
  try {
    req = http.request({ host: ep.address, port: ep.port, method: plan.method, path: plan.target, headers, agent, timeout: 10_000 });
  } catch {
    return null;
  }
  req.on('error', noop);
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
