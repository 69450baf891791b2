// Parameters: resolve the GatewayClass and Gateway parametersRefs, validate each layer, and
// merge them field by field over the built-in defaults:
//
//   built-in defaults < controller defaults (Helm values) < GatewayClass parameters < Gateway parameters
//
// Objects merge key by key (so maps such as nodeSelector, service.annotations and
// resources.requests merge too); lists (tolerations, extraArgs) and scalars are replaced whole
// by the more specific layer. podDisruptionBudget.minAvailable/maxUnavailable are one choice:
// a layer that sets either replaces both.

import { PARAMETERS_GROUP, PARAMETERS_KIND, gatewayParametersSpec, type GatewayParameters, type GatewayParametersSpec } from '../api/gatewayparameters.js';
import type { Gateway, GatewayClass } from '../api/types.js';
import { isObject, walk, type FieldError } from '../api/validate-schema.js';
import type { ParametersCondition, ProvisionInput } from './types.js';

export const BUILT_IN_DEFAULTS: GatewayParametersSpec = {
  deployment: {
    replicas: 1,
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
  },
  service: { type: 'LoadBalancer', externalTrafficPolicy: 'Cluster' },
  autoscaling: { enabled: false, minReplicas: 1, targetCPUUtilizationPercentage: 80 },
  podDisruptionBudget: { enabled: false },
};

/** The merged parameters: every field the defaults set is present. */
export type EffectiveParameters = GatewayParametersSpec & {
  deployment: NonNullable<GatewayParametersSpec['deployment']>;
  service: NonNullable<GatewayParametersSpec['service']>;
  autoscaling: NonNullable<GatewayParametersSpec['autoscaling']>;
  podDisruptionBudget: NonNullable<GatewayParametersSpec['podDisruptionBudget']>;
};

interface Layer {
  on: ParametersCondition['on'];
  /** How messages name the layer: "GatewayParameters ns/name (spec.parametersRef)". */
  what: string;
  spec: GatewayParametersSpec;
}

export type ParametersVerdict = { ok: true; parameters: EffectiveParameters } | { ok: false; conditions: ParametersCondition[] };

const invalid = (on: ParametersCondition['on'], message: string): ParametersCondition => ({
  on,
  condition: { type: 'Accepted', status: 'False', reason: 'InvalidParameters', message },
});

function refText(r: { group?: string; kind?: string; name?: string; namespace?: string }): string {
  return `${r.group || 'core'}/${r.kind ?? '?'} ${r.namespace ? r.namespace + '/' : ''}${r.name ?? '?'}`;
}

/** Resolve one reference to a layer, or the condition explaining why it cannot be used. */
function resolve(
  on: ParametersCondition['on'],
  field: string,
  ref: { group?: string; kind?: string; name?: string; namespace?: string },
  namespace: string | undefined,
  find: ProvisionInput['findParameters'],
): Layer | ParametersCondition {
  if (ref.group !== PARAMETERS_GROUP || ref.kind !== PARAMETERS_KIND)
    return invalid(on, `${field} ${refText(ref)} is not supported: point it at a ${PARAMETERS_KIND} (group ${PARAMETERS_GROUP})`);
  if (!namespace)
    return invalid(on, `${field}.namespace is required: ${PARAMETERS_KIND} is namespaced; set the namespace the object lives in`);
  const found = typeof ref.name === 'string' ? find(namespace, ref.name) : undefined;
  const what = `${PARAMETERS_KIND} ${namespace}/${ref.name} (${field})`;
  if (!found) return invalid(on, `${what} not found; create it or fix ${field}`);
  const errors: FieldError[] = [];
  walk(gatewayParametersSpec, found.spec ?? {}, 'spec', errors);
  const pdb = found.spec?.podDisruptionBudget;
  if (pdb && pdb.minAvailable !== undefined && pdb.maxUnavailable !== undefined)
    errors.push({ path: 'spec.podDisruptionBudget', message: 'set minAvailable or maxUnavailable, not both' });
  if (errors.length > 0) {
    const list = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    return invalid(on, `${what} is invalid: ${list}`);
  }
  return { on, what, spec: found.spec ?? {} };
}

const isLayer = (x: Layer | ParametersCondition): x is Layer => 'spec' in x;

/** Deep merge: objects key by key, everything else replaced by `over`. */
function merge(base: unknown, over: unknown, path = ''): unknown {
  if (over === undefined || over === null) return base;
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  const exclusive = path === 'podDisruptionBudget' && (over.minAvailable !== undefined || over.maxUnavailable !== undefined);
  if (exclusive) {
    delete out.minAvailable;
    delete out.maxUnavailable;
  }
  for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v, path ? `${path}.${k}` : k);
  return out;
}

/** Checks that need the merged result; blamed on the most specific layer that set the section. */
function crossChecks(p: EffectiveParameters, layers: Layer[]): ParametersCondition[] {
  const out: ParametersCondition[] = [];
  const blame = (section: keyof GatewayParametersSpec, message: string): void => {
    const layer = [...layers].reverse().find((l) => l.spec[section] !== undefined);
    const on = layer?.on ?? 'GatewayClass';
    out.push(invalid(on, `${layer ? layer.what : 'the controller defaults (Helm values)'}: ${message}`));
  };
  const a = p.autoscaling;
  if (a.enabled) {
    if (a.maxReplicas === undefined)
      blame('autoscaling', 'spec.autoscaling.maxReplicas is required when autoscaling is enabled; set it (e.g. 5)');
    else if ((a.minReplicas ?? 1) > a.maxReplicas)
      blame('autoscaling', `spec.autoscaling.minReplicas (${a.minReplicas}) must not exceed maxReplicas (${a.maxReplicas}); lower minReplicas or raise maxReplicas`);
    if (!p.deployment.resources?.requests?.cpu)
      blame('deployment', 'spec.deployment.resources.requests.cpu is required when autoscaling is enabled (the HPA targets CPU utilization of the request)');
  }
  return out;
}

/**
 * `gateway` undefined: the GatewayClass's layers only (a merged data plane, which no one
 * Gateway's parameters shape).
 */
export function resolveParameters(
  gatewayClass: GatewayClass,
  gateway: Gateway | undefined,
  find: ProvisionInput['findParameters'],
  defaults?: GatewayParametersSpec,
): ParametersVerdict {
  const layers: Layer[] = [];
  const conditions: ParametersCondition[] = [];
  const classRef = gatewayClass.spec?.parametersRef;
  if (classRef) {
    const r = resolve('GatewayClass', 'spec.parametersRef', classRef, classRef.namespace, find);
    if (isLayer(r)) layers.push(r);
    else conditions.push(r);
  }
  const gwRef = gatewayParametersRef(gateway);
  if (gateway && gwRef) {
    const r = resolve('Gateway', 'spec.infrastructure.parametersRef', gwRef, gateway.metadata.namespace, find);
    if (isLayer(r) && r.spec.mergeGateways !== undefined)
      conditions.push(invalid('Gateway', `${r.what}: spec.mergeGateways is a GatewayClass setting; set it in the GatewayParameters the GatewayClass's spec.parametersRef names`));
    else if (isLayer(r)) layers.push(r);
    else conditions.push(r);
  }
  if (conditions.length > 0) return { ok: false, conditions };
  let merged: unknown = merge(BUILT_IN_DEFAULTS, defaults ?? {});
  for (const l of layers) merged = merge(merged, l.spec);
  const parameters = merged as EffectiveParameters;
  const cross = crossChecks(parameters, layers);
  if (cross.length > 0) return { ok: false, conditions: cross };
  return { ok: true, parameters };
}

export function gatewayParametersRef(gateway: Gateway | undefined): { group?: string; kind?: string; name?: string } | undefined {
  const infra = gateway?.spec?.infrastructure;
  return isObject(infra) && isObject(infra.parametersRef) ? (infra.parametersRef as { group?: string; kind?: string; name?: string }) : undefined;
}

/** Whether the GatewayClass's Gateways share one merged data plane (valid class parameters with mergeGateways true). */
export function mergesGateways(gatewayClass: GatewayClass, find: ProvisionInput['findParameters'], defaults?: GatewayParametersSpec): boolean {
  const v = resolveParameters(gatewayClass, undefined, find, defaults);
  return v.ok && v.parameters.mergeGateways === true;
}

/** Find a GatewayParameters among a list of resources (for callers holding a plain list). */
export function finderOf(resources: readonly GatewayParameters[]): ProvisionInput['findParameters'] {
  const byKey = new Map<string, GatewayParameters>();
  for (const r of resources) {
    const apiVersion = `${PARAMETERS_GROUP}/`;
    if (r.kind === PARAMETERS_KIND && r.apiVersion.startsWith(apiVersion)) byKey.set(`${r.metadata.namespace ?? ''}/${r.metadata.name}`, r);
  }
  return (namespace, name) => byKey.get(`${namespace}/${name}`);
}
