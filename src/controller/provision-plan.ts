// Which Gateways get their own data plane, and what src/provision makes for each: a pure
// function of one snapshot and its translation, computed by every replica (status needs it)
// and applied by the leader only (./provisioner.ts).

import type { Gateway, GatewayClass } from '../api/types.js';
import { Kind } from '../api/names.js';
import type { GatewayParameters } from '../api/gatewayparameters.js';
import type { Snapshot } from '../store/snapshot.js';
import type { ObjectStatus } from '../translate/types.js';
import { gatewayNameLabelValue, provision, type ProvisionResult, type ProvisionSettings } from '../provision/index.js';

export interface GatewayPlan {
  /** `namespace/name`: the config-stream identity too. */
  key: string;
  gateway: Gateway;
  /** The translator's Accepted condition is True: only then are objects applied. */
  accepted: boolean;
  result: ProvisionResult;
}

export interface ProvisionPlan {
  /** Every Gateway of a GatewayClass of this controller, by `namespace/name`. */
  gateways: Map<string, GatewayPlan>;
  /** gateway-class-name label values of this controller's GatewayClasses. */
  classLabels: Set<string>;
}

export const gatewayKey = (g: { metadata: { namespace?: string; name: string } }): string => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`;

function acceptedIn(statuses: ReadonlyMap<string, ObjectStatus>, key: string): boolean {
  const conds = (statuses.get(key)?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions;
  return conds?.some((c) => c.type === 'Accepted' && c.status === 'True') ?? false;
}

export function planProvisioning(snapshot: Snapshot, statuses: readonly ObjectStatus[], controllerName: string, settings: ProvisionSettings): ProvisionPlan {
  const classes = new Map<string, GatewayClass>();
  for (const gc of snapshot.list<GatewayClass>(Kind.GatewayClass)) if (gc.spec?.controllerName === controllerName) classes.set(gc.metadata.name, gc);
  const gatewayStatuses = new Map<string, ObjectStatus>();
  for (const s of statuses) if (s.kind === Kind.Gateway) gatewayStatuses.set(`${s.namespace ?? 'default'}/${s.name}`, s);
  const findParameters = (namespace: string, name: string) => snapshot.get<GatewayParameters>(Kind.GatewayParameters, namespace, name);
  const gateways = new Map<string, GatewayPlan>();
  for (const gateway of snapshot.list<Gateway>(Kind.Gateway)) {
    const gatewayClass = classes.get(gateway.spec?.gatewayClassName ?? '');
    if (!gatewayClass) continue;
    const key = gatewayKey(gateway);
    gateways.set(key, { key, gateway, accepted: acceptedIn(gatewayStatuses, key), result: provision({ gateway, gatewayClass, findParameters, settings }) });
  }
  return { gateways, classLabels: new Set([...classes.keys()].map(gatewayNameLabelValue)) };
}
