// Tunables of the L4 servers. The engine passes its access log; tests shorten the timers.

export interface L4Options {
  /** TLS: how long a client may take to send its whole ClientHello. */
  helloTimeoutMs?: number; // default 10 s
  /** TLS: bytes buffered while waiting for the ClientHello (bounded against slow-drip abuse). */
  maxHelloBytes?: number; // default 64 KiB
  /** TCP/TLS: time allowed to establish the backend connection, per endpoint tried. */
  connectTimeoutMs?: number; // default 5 s
  /** TCP/TLS: endpoints tried (round-robin order) before giving up on a connection. */
  connectAttempts?: number; // default 3
  /** UDP: a session with no traffic either way for this long is closed. */
  udpIdleMs?: number; // default 60 s
  /** UDP: sessions held at once; datagrams that would open one more are dropped. */
  udpMaxSessions?: number; // default 10,000
  /** Diagnostics (refused connections, backend errors); default silent unless PORTICO_DEBUG_L4=1 (stderr). */
  log?: (msg: string) => void;
  /** Access log sink (the engine's): a line per connection / UDP session; absent = none. */
  accessLog?: (line: string) => void;
  /** The engine's metric families; absent = not counted. */
  metrics?: DataplaneMetrics;
}

export type ResolvedL4Options = Required<Omit<L4Options, 'accessLog' | 'metrics'>> & Pick<L4Options, 'accessLog' | 'metrics'>;
import type { DataplaneMetrics } from '../../observability/metrics/dataplane.js';

export function resolveOptions(o: L4Options = {}): ResolvedL4Options {
  return {
    helloTimeoutMs: o.helloTimeoutMs ?? 10_000,
    maxHelloBytes: o.maxHelloBytes ?? 64 * 1024,
    connectTimeoutMs: o.connectTimeoutMs ?? 5_000,
    connectAttempts: o.connectAttempts ?? 3,
    udpIdleMs: o.udpIdleMs ?? 60_000,
    udpMaxSessions: o.udpMaxSessions ?? 10_000,
    log: o.log ?? (process.env.PORTICO_DEBUG_L4 === '1' ? (m: string) => void process.stderr.write(`portico l4: ${m}\n`) : () => {}),
    accessLog: o.accessLog,
    metrics: o.metrics,
  };
}
