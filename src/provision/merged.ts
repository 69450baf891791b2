// provisionMerged(): one data plane for every Gateway of a GatewayClass whose parameters set
// `mergeGateways` (Envoy Gateway's mergeGateways): a ServiceAccount, Service, Deployment (and
// HPA/PDB) named for the class, in the controller's namespace, owned by the GatewayClass. The
// Service exposes the union of the served Gateways' listener ports; the translator reports
// port and hostname conflicts across the class's Gateways as with one shared data plane
// (TranslateOptions.mergedGatewayClasses). Pure, like provision().

import type { Gateway, GatewayClass } from '../api/types.js';
import { healthPort } from './deployment.js';
import { GATEWAY_CLASS_NAME_LABEL, gatewayNameLabelValue, mergedResourceName, ownerReference, sortedMap } from './names.js';
import { gatewayParametersRef, resolveParameters } from './parameters.js';
import { workloadObjects } from './scaling.js';
import { listenerPorts, serviceSpec } from './service.js';
import type { ProvisionInput, ProvisionResult, ProvisionSettings, ProvisionedMeta, ProvisionedObject, UnusableAddress } from './types.js';

/** The config-stream identity of a merged data plane (`--gateway`): no namespace is spelled with capitals. */
export const mergedIdentity = (gatewayClassName: string): string => `GatewayClass/${gatewayClassName}`;

export interface MergedProvisionInput {
  gatewayClass: GatewayClass;
  /** Every Gateway of the class, each with the listeners its data plane serves (its ListenerSets' too). */
  gateways: Gateway[];
  /** Whether the translator accepted a Gateway (`namespace/name`): only those are served. Default: all. */
  accepted?: (key: string) => boolean;
  findParameters: ProvisionInput['findParameters'];
  /** `namespace` (the controller's) is where the objects go. */
  settings: ProvisionSettings;
}

export interface MergedProvisionResult {
  /** The shared objects (none when no Gateway is served), or the GatewayClass's InvalidParameters. */
  shared: ProvisionResult;
  /** `namespace/name` of the Gateways the data plane serves, sorted. */
  members: string[];
  /**
   * Each Gateway's view, by `namespace/name`: the shared result with its own unusable
   * spec.addresses, or the conditions that keep it off the data plane.
   */
  gateways: Record<string, ProvisionResult>;
}

const keyOf = (g: Gateway): string => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`;

export function provisionMerged(input: MergedProvisionInput): MergedProvisionResult {
  const { gatewayClass, settings } = input;
  const className = gatewayClass.metadata.name;
  const sorted = [...input.gateways].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  const verdict = resolveParameters(gatewayClass, undefined, input.findParameters, settings.defaults);
  if (!verdict.ok) {
    const gateways: Record<string, ProvisionResult> = {};
    for (const g of sorted) gateways[keyOf(g)] = { ok: false, conditions: verdict.conditions };
    return { shared: { ok: false, conditions: verdict.conditions }, members: [], gateways };
  }
  const p = verdict.parameters;
  const name = mergedResourceName(className);
  const namespace = settings.namespace ?? 'default';
  const why = `GatewayClass ${className} merges its Gateways into one data plane (GatewayParameters spec.mergeGateways)`;

  const served: Gateway[] = [];
  const refused = new Map<string, ProvisionResult>();
  const unusable = new Map<string, UnusableAddress[]>();
  const ignored = new Map<string, string[]>();
  for (const g of sorted) {
    const key = keyOf(g);
    if (gatewayParametersRef(g)) {
      refused.set(key, {
        ok: false,
        conditions: [
          {
            on: 'Gateway',
            condition: { type: 'Accepted', status: 'False', reason: 'InvalidParameters', message: `${why}, which one Gateway's spec.infrastructure.parametersRef cannot shape; remove it, or use a GatewayClass without mergeGateways` },
          },
        ],
      });
      continue;
    }
    const addresses = Array.isArray(g.spec?.addresses) ? g.spec.addresses : [];
    unusable.set(
      key,
      addresses.map((a, index) => ({ index, value: typeof a.value === 'string' ? a.value : '', message: `spec.addresses[${index}]: ${why}; its shared Service takes no address of one Gateway; remove it` })),
    );
    const infra = g.spec?.infrastructure;
    const dropped: string[] = [];
    for (const field of ['labels', 'annotations'] as const)
      for (const k of Object.keys((infra?.[field] as Record<string, string> | undefined) ?? {})) dropped.push(`spec.infrastructure.${field}[${k}]: not propagated, ${why}`);
    ignored.set(key, dropped.sort());
    if (input.accepted?.(key) ?? true) served.push(g);
  }

  const selector = {
    'app.kubernetes.io/component': 'dataplane',
    'app.kubernetes.io/instance': name,
    [GATEWAY_CLASS_NAME_LABEL]: gatewayNameLabelValue(className),
  };
  const labels = sortedMap({ ...selector, 'app.kubernetes.io/managed-by': 'portico', 'app.kubernetes.io/name': 'portico' });
  const meta = (annotations: Record<string, string> = {}): ProvisionedMeta => {
    const m: ProvisionedMeta = { name, namespace, labels };
    if (Object.keys(annotations).length > 0) m.annotations = sortedMap(annotations);
    const owners = ownerReference(gatewayClass, 'GatewayClass');
    if (owners) m.ownerReferences = owners;
    return m;
  };
  // The union of the served Gateways' listener ports, one Service port per (port, protocol).
  const ports = listenerPorts({ metadata: { name }, spec: { gatewayClassName: className, listeners: served.flatMap((g) => (Array.isArray(g.spec?.listeners) ? g.spec.listeners : [])) } } as Gateway);
  const objects: ProvisionedObject[] = [];
  if (ports.length > 0) {
    objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(), automountServiceAccountToken: false });
    objects.push({ apiVersion: 'v1', kind: 'Service', metadata: meta(p.service.annotations ?? {}), spec: serviceSpec(ports, selector, p, {}) });
    objects.push(
      ...workloadObjects(
        {
          identity: mergedIdentity(className),
          name,
          selector,
          podLabels: labels,
          podAnnotations: {},
          ports,
          health: healthPort(settings.healthPort, ports),
          image: settings.image,
          imagePullPolicy: settings.imagePullPolicy ?? 'IfNotPresent',
          syncAddress: settings.syncAddress,
          parameters: p,
        },
        () => meta(),
      ),
    );
  }
  const shared: ProvisionResult = { ok: true, name, namespace, objects, addresses: { onService: [], unusable: [] }, ignored: [] };
  const gateways: Record<string, ProvisionResult> = {};
  for (const g of sorted) {
    const key = keyOf(g);
    gateways[key] = refused.get(key) ?? { ...shared, objects: [], addresses: { onService: [], unusable: unusable.get(key) ?? [] }, ignored: ignored.get(key) ?? [] };
  }
  return { shared, members: served.map(keyOf), gateways };
}
