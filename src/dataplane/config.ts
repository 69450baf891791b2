// One applied IR, compiled: per-port routers and run-time clusters. Immutable after build;
// apply() builds a new one and swaps a single reference.

import type { IR } from '../ir/types.js';
import { PortRouter } from './router/tables.js';
import { RuntimeCluster } from './upstream/cluster.js';

export class RuntimeConfig {
  readonly clusters = new Map<string, RuntimeCluster>();
  readonly routers = new Map<string, PortRouter>();

  constructor(readonly ir: IR, previous?: RuntimeConfig) {
    for (const [name, c] of Object.entries(ir.clusters)) {
      // Carry the round-robin position over so frequent applies do not pin traffic to endpoint 0.
      this.clusters.set(name, new RuntimeCluster(c, previous?.clusters.get(name)?.rrState ?? 0));
    }
    for (const port of ir.ports) {
      if (port.protocol === 'HTTP' || port.protocol === 'HTTPS') this.routers.set(port.name, new PortRouter(port));
    }
  }
}
