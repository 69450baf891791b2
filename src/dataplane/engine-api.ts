// The contract between the controller loop (file or Kubernetes mode) and the data plane.
// The implementation lives in ./engine.ts.

import type { IR } from '../ir/types.js';

export interface Engine {
  /**
   * Serve `ir` from now on. Atomic: requests in flight finish on the tables they started
   * with; sockets whose Port (same name) is still present stay open; removed ports close
   * after draining. Resolves once every new socket is listening. Rejects (and keeps the
   * previous config serving) when a new socket cannot bind, naming the port.
   */
  apply(ir: IR): Promise<void>;
  /** Stop accepting, drain in-flight requests (up to `graceMs`), close everything. */
  close(graceMs?: number): Promise<void>;
}

export interface EngineOptions {
  /** Access log sink; undefined = no access log. */
  accessLog?: (line: string) => void;
  /** Limits; defaults are the engine's. */
  maxHeaderBytes?: number; // default 16 KiB -> 431
  maxHeaderCount?: number; // default 100 -> 431
  requestHeadTimeoutMs?: number; // default 10 s (slowloris) -> 408
  idleTimeoutMs?: number; // default 60 s keep-alive idle
}
