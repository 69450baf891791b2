// Sockets the data plane could not bind (options.portUnavailable, from its last apply: the port
// is taken by another process, or the address is gone). A listener serves on its remaining
// addresses; one left with none is Accepted False PortUnavailable, which the spec names for "the
// port is already in use", and is not programmed. The rest of the configuration is unaffected.

import { Reason } from './conditions.js';
import type { Context } from './context.js';
import { allListeners, type GatewayNode } from './graph.js';

export function markPortsUnavailable(ctx: Context, gateways: readonly GatewayNode[]): void {
  if (ctx.portUnavailable.size === 0) return;
  for (const gw of gateways) {
    if (!gw.accepted?.ok) continue;
    for (const l of allListeners(gw)) {
      if (!l.accepted || l.conflicted) continue;
      const failed: string[] = [];
      const usable = l.addresses.filter((address) => {
        const name = `${address}:${l.spec.port}/${l.spec.protocol}`;
        // HTTPS and TLS listeners sharing a port are served from one socket (ir.ts mergeSNIPorts).
        const shared = l.spec.protocol === 'HTTPS' || l.spec.protocol === 'TLS' ? ctx.portUnavailable.get(`${address}:${l.spec.port}/HTTPS+TLS`) : undefined;
        const err = ctx.portUnavailable.get(name) ?? shared;
        if (err !== undefined) failed.push(`${address}:${l.spec.port}: ${err}`);
        return err === undefined;
      });
      if (failed.length === 0) continue;
      l.addresses = usable;
      if (usable.length > 0) continue;
      l.accepted = false;
      l.rejected = { reason: Reason.PortUnavailable, message: `the data plane cannot listen on ${failed.join('; ')}; retried periodically` };
    }
  }
}
