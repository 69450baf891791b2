// GatewayClass: Accepted when its controllerName is ours. Classes of other controllers are
// not ours to judge: they get no status and their Gateways are ignored.

import type { GatewayClass } from '../api/types.js';
import { Kind } from '../api/names.js';
import { Reason, Type, condition } from './conditions.js';
import { generationOf, type Context } from './context.js';
import type { GatewayClassNode } from './graph.js';

export function buildGatewayClasses(ctx: Context): Map<string, GatewayClassNode> {
  const out = new Map<string, GatewayClassNode>();
  for (const gc of ctx.snapshot.list<GatewayClass>(Kind.GatewayClass)) {
    if (gc.spec?.controllerName !== ctx.controllerName) continue;
    const gen = generationOf(gc);
    const conditions = [];
    const p = gc.spec.parametersRef;
    // The shared data plane takes no parameters, so any parametersRef points at something it
    // cannot use. Provisioned data planes take GatewayParameters: src/provision judges those.
    const accepted = !p || ctx.perGateway;
    conditions.push(
      accepted
        ? condition(Type.Accepted, true, Reason.Accepted, 'GatewayClass is accepted', gen)
        : condition(
            Type.Accepted,
            false,
            Reason.InvalidParameters,
            `spec.parametersRef ${p.group || 'core'}/${p.kind} ${p.namespace ? p.namespace + '/' : ''}${p.name} is not supported: Portico takes no GatewayClass parameters; remove parametersRef`,
            gen,
          ),
    );
    conditions.push(
      condition(Type.SupportedVersion, true, Reason.SupportedVersion, 'Gateway API version is supported', gen),
    );
    out.set(gc.metadata.name, { resource: gc, accepted, conditions });
  }
  return out;
}
