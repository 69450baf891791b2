// What the controller adds to the translator's statuses when each Gateway has its own data
// plane: status.addresses from the provisioned Service (load-balancer ingress, else external
// IPs, else cluster IPs), InvalidParameters from src/provision on the Gateway or its
// GatewayClass, Programmed False for AddressNotUsable / AddressNotAssigned, for objects the
// leader could not apply, for a data plane that refused its config (NACK), and per listener for
// ports a data plane could not bind. Pure: every input is passed in.

import type { Condition, Gateway, GatewayAddress } from '../api/types.js';
import { Kind } from '../api/names.js';
import type { Snapshot } from '../store/snapshot.js';
import type { ObjectStatus } from '../translate/types.js';
import { condition, Reason, Type } from '../translate/conditions.js';
import { statusAddresses } from '../provision/index.js';
import type { ServiceView } from '../provision/addresses.js';
import type { GatewaySyncStatus } from '../sync/server.js';
import type { ProvisionPlan } from './provision-plan.js';

export interface ProvisionedFacts {
  snapshot: Snapshot;
  plan: ProvisionPlan;
  /** Data plane (GatewayPlan.stream) -> why its objects could not be applied (leader only). */
  applyErrors: ReadonlyMap<string, string>;
  sync: (gateway: string) => GatewaySyncStatus;
}

type Status = { conditions?: Condition[]; addresses?: GatewayAddress[]; listeners?: { name: string; conditions: Condition[] }[] };

/** `c` in place of the condition of its type (same position), or appended. */
const replace = (conds: Condition[] | undefined, c: Condition): Condition[] => {
  const list = conds ?? [];
  return list.some((x) => x.type === c.type) ? list.map((x) => (x.type === c.type ? c : x)) : [...list, c];
};
const isTrue = (conds: Condition[] | undefined, type: string): boolean => conds?.some((c) => c.type === type && c.status === 'True') ?? false;

export function decorateProvisioned(statuses: readonly ObjectStatus[], f: ProvisionedFacts): ObjectStatus[] {
  const classProblems = new Map<string, string>();
  for (const p of f.plan.gateways.values()) {
    if (p.result.ok) continue;
    for (const c of p.result.conditions) if (c.on === 'GatewayClass') classProblems.set(p.gateway.spec?.gatewayClassName ?? '', c.condition.message ?? '');
  }
  return statuses.map((s) => {
    if (s.kind === Kind.GatewayClass) {
      const problem = classProblems.get(s.name);
      if (problem === undefined) return s;
      const st = s.status as Status;
      return { ...s, status: { ...s.status, conditions: replace(st.conditions, condition(Type.Accepted, false, Reason.InvalidParameters, problem, s.generation ?? 0)) } };
    }
    if (s.kind !== Kind.Gateway) return s;
    const key = `${s.namespace ?? 'default'}/${s.name}`;
    const p = f.plan.gateways.get(key);
    return p ? { ...s, status: gatewayStatus(s.status as Status, p.gateway, s.generation ?? 0, key, f) } : s;
  });
}

function gatewayStatus(st: Status, gateway: Gateway, gen: number, key: string, f: ProvisionedFacts): Status {
  const p = f.plan.gateways.get(key)!;
  let conditions = st.conditions ?? [];
  let listeners = st.listeners;
  const notProgrammed = (reason: string, message: string): void => {
    if (isTrue(conditions, Type.Programmed)) conditions = replace(conditions, condition(Type.Programmed, false, reason, message, gen));
  };
  if (!p.result.ok) {
    for (const c of p.result.conditions) {
      if (c.on === 'Gateway') conditions = replace(conditions, condition(Type.Accepted, false, Reason.InvalidParameters, c.condition.message ?? '', gen));
      notProgrammed(Reason.Invalid, `no data plane provisioned: ${c.condition.message ?? ''}`);
    }
    return { ...st, conditions, addresses: [] };
  }
  const service = f.snapshot.get<ServiceView>(Kind.Service, p.result.namespace, p.result.name);
  let addresses: GatewayAddress[] = [];
  const error = f.applyErrors.get(p.stream);
  if (error) notProgrammed(Reason.Invalid, `cannot create the data plane's objects: ${error}`);
  if (!service) {
    if (p.accepted) notProgrammed('Pending', `waiting for the data plane's Service ${p.result.namespace}/${p.result.name}`);
  } else {
    const a = statusAddresses(service, Array.isArray(gateway.spec?.addresses) ? gateway.spec.addresses : []);
    addresses = a.addresses;
    if (p.result.addresses.unusable.length > 0) notProgrammed(Reason.AddressNotUsable, p.result.addresses.unusable.map((u) => u.message).join('; '));
    else if (a.notAssigned.length > 0)
      notProgrammed('AddressNotAssigned', `spec.addresses ${a.notAssigned.join(', ')} not assigned to Service ${p.result.namespace}/${p.result.name} (yet)`);
  }
  const sync = f.sync(p.stream);
  if (sync.lastNack) {
    const n = sync.lastNack;
    notProgrammed(Reason.Invalid, `data plane ${n.pod} refused config version ${n.version}: ${n.code}: ${n.message}`);
  }
  // Ports some data-plane pod could not bind (IR Port names, `0.0.0.0:80/HTTP`): those listeners are not programmed.
  const unbound = new Map<string, string[]>();
  for (const c of sync.clients) {
    for (const u of c.acked?.unbound ?? []) {
      const m = /:(\d+)\/([A-Z]+)$/.exec(u.port);
      if (!m) continue;
      const k = `${m[1]}/${m[2]}`;
      unbound.set(k, [...(unbound.get(k) ?? []), `${c.pod}: ${u.error}`]);
    }
  }
  if (unbound.size > 0 && listeners) {
    const specs = Array.isArray(gateway.spec?.listeners) ? gateway.spec.listeners : [];
    listeners = listeners.map((l) => {
      const spec = specs.find((x) => x.name === l.name);
      const why = spec ? unbound.get(`${spec.port}/${spec.protocol}`) : undefined;
      if (!why || !isTrue(l.conditions, Type.Programmed)) return l;
      const message = `the data plane cannot listen on port ${spec!.port} (${why.join('; ')})`;
      return {
        ...l,
        conditions: replace(replace(l.conditions, condition(Type.Accepted, false, Reason.PortUnavailable, message, gen)), condition(Type.Programmed, false, Reason.Invalid, message, gen)),
      };
    });
    if (!listeners.some((l) => isTrue(l.conditions, Type.Programmed))) notProgrammed(Reason.Invalid, 'no listener is programmed: the data plane cannot listen on any of their ports');
  }
  return { ...st, conditions, addresses, ...(listeners ? { listeners } : {}) };
}
