// Entry point the engine uses: one L4 server per IR Port with protocol TLS, TCP or UDP.

import type { Cluster, Port } from '../../ir/types.js';
import type { L4Server } from './api.js';
import { type L4Options, resolveOptions } from './options.js';
import { createTCPServer } from './tcp.js';
import { createTLSServer } from './tls.js';
import { createUDPServer } from './udp.js';

export type { L4Server } from './api.js';
export type { L4Options } from './options.js';

export async function createL4Server(port: Port, clusters: Record<string, Cluster>, options?: L4Options): Promise<L4Server> {
  const opts = resolveOptions(options);
  switch (port.protocol) {
    case 'TCP':
      return createTCPServer(port, clusters, opts);
    case 'UDP':
      return createUDPServer(port, clusters, opts);
    case 'TLS':
      return createTLSServer(port, clusters, opts);
    default:
      throw new Error(`${port.name}: protocol ${port.protocol} is not served by the L4 servers`);
  }
}
