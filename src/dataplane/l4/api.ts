// The contract between the engine and the L4 servers (TCP, UDP, TLS passthrough/terminate).
// The engine creates one L4Server per IR Port whose protocol is TLS, TCP or UDP.

import type { Cluster, Port } from '../../ir/types.js';
import type { L4Options } from './options.js';

export interface L4Server {
  /** Swap routes/clusters atomically; open connections keep the backend they were spliced to. */
  update(port: Port, clusters: Record<string, Cluster>): void;
  /** Stop listening; open connections get `graceMs` to finish, then are destroyed. */
  close(graceMs?: number): Promise<void>;
}

export type CreateL4Server = (port: Port, clusters: Record<string, Cluster>, options?: L4Options) => Promise<L4Server>;
