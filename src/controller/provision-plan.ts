// Which Gateways get their own data plane, and what src/provision makes for each: a pure
// function of one snapshot and its translation, computed by every replica (status needs it)
// and applied by the leader only (./provisioner.ts).

import type { Gateway, GatewayClass, Listener, ListenerSet } from '../api/types.js';
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
  const fromListenerSets = listenerSetListeners(snapshot, statuses);
  const gateways = new Map<string, GatewayPlan>();
  for (const gateway of snapshot.list<Gateway>(Kind.Gateway)) {
    const gatewayClass = classes.get(gateway.spec?.gatewayClassName ?? '');
    if (!gatewayClass) continue;
    const key = gatewayKey(gateway);
    // The data plane serves the ListenerSets' listeners too: their ports go on its Service.
    const extra = fromListenerSets.get(key);
    const served: Gateway = extra
      ? { ...gateway, spec: { ...gateway.spec!, listeners: [...(Array.isArray(gateway.spec?.listeners) ? gateway.spec.listeners : []), ...extra] } }
      : gateway;
    gateways.set(key, { key, gateway, accepted: acceptedIn(gatewayStatuses, key), result: provision({ gateway: served, gatewayClass, findParameters, settings }) });
  }
  return { gateways, classLabels: new Set([...classes.keys()].map(gatewayNameLabelValue)) };
}

/** Listeners of the ListenerSets the translator accepted, by their parent Gateway's `namespace/name`. */
function listenerSetListeners(snapshot: Snapshot, statuses: readonly ObjectStatus[]): Map<string, Listener[]> {
  const out = new Map<string, Listener[]>();
  for (const s of statuses) {
    if (s.kind !== Kind.ListenerSet) continue;
    const conds = (s.status as { conditions?: { type: string; status: string }[] }).conditions;
    if (!conds?.some((c) => c.type === 'Accepted' && c.status === 'True')) continue;
    const spec = snapshot.get<ListenerSet>(Kind.ListenerSet, s.namespace, s.name)?.spec;
    const ref = spec?.parentRef;
    if (!spec || !ref || typeof ref.name !== 'string' || !Array.isArray(spec.listeners)) continue;
    const key = `${ref.namespace ?? s.namespace ?? 'default'}/${ref.name}`;
    let list = out.get(key);
    if (!list) out.set(key, (list = []));
    list.push(...spec.listeners);
  }
  return out;
}
