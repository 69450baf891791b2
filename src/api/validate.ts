// validate(resource): every constraint the CRDs (and, for core kinds, the API server) put on
// the fields Portico reads, as field errors naming the path and what is allowed.
// applyDefaults(resource): the object with the CRD defaults filled in, as the API server stores it.

import { Kind, CLUSTER_SCOPED } from './names.js';
import { any, applyDefaults as fill, isObject, obj, str, walk, type FieldError, type ObjectSchema, type Schema } from './validate-schema.js';
import { dns1035Name, dns1123Label, dnsSubdomainName, metadata } from './validate-common.js';
import { gatewayClassSpec, gatewaySpec, listenerSetSpec } from './validate-gateway.js';
import { grpcRouteSpec, httpRouteSpec, tcpRouteSpec, tlsRouteSpec, tlsRouteSpecV3, udpRouteSpec } from './validate-routes.js';
import { backendTLSPolicySpec, backendTrafficPolicySpec, referenceGrantSpec } from './validate-policy.js';
import { ingressClassSpec, ingressSpec } from './validate-ingress.js';
import { configMapBody, endpointAddressCheck, endpointSliceBody, namespaceSpec, secretBody, secretCheck, serviceSpec } from './validate-core.js';
import { PARAMETERS_GROUP, PARAMETERS_VERSION, gatewayParametersSpec } from './gatewayparameters.js';

export type { FieldError } from './validate-schema.js';

interface KindDef {
  apiVersions: readonly string[];
  schema: ObjectSchema;
  /** Versions whose schema differs from `schema`, by apiVersion. */
  byVersion?: Record<string, ObjectSchema>;
}

const GW = 'gateway.networking.k8s.io';
const status = any();

function resource(kind: string, nameSchema: Schema, body: Record<string, Schema>, required: string[], check?: ObjectSchema['check']): ObjectSchema {
  return obj(
    { apiVersion: str(), kind: str(), metadata: metadata(nameSchema, !CLUSTER_SCOPED.has(kind)), ...body },
    { required: ['apiVersion', 'kind', 'metadata', ...required], check },
  );
}
const gw = (kind: string, spec: Schema, versions: string[]): KindDef => ({
  apiVersions: versions.map((v) => `${GW}/${v}`),
  schema: resource(kind, dnsSubdomainName, { spec, status }, ['spec']),
});

const KINDS: Record<string, KindDef> = {
  [Kind.GatewayClass]: gw(Kind.GatewayClass, gatewayClassSpec, ['v1', 'v1beta1']),
  [Kind.Gateway]: gw(Kind.Gateway, gatewaySpec, ['v1', 'v1beta1']),
  [Kind.ListenerSet]: gw(Kind.ListenerSet, listenerSetSpec, ['v1']),
  [Kind.HTTPRoute]: gw(Kind.HTTPRoute, httpRouteSpec, ['v1', 'v1beta1']),
  [Kind.GRPCRoute]: gw(Kind.GRPCRoute, grpcRouteSpec, ['v1', 'v1alpha2']),
  [Kind.TLSRoute]: {
    ...gw(Kind.TLSRoute, tlsRouteSpec, ['v1', 'v1alpha3', 'v1alpha2']),
    byVersion: {
      [`${GW}/v1alpha3`]: gw(Kind.TLSRoute, tlsRouteSpecV3, ['v1alpha3']).schema,
      [`${GW}/v1`]: gw(Kind.TLSRoute, tlsRouteSpecV3, ['v1']).schema,
    },
  },
  [Kind.TCPRoute]: gw(Kind.TCPRoute, tcpRouteSpec, ['v1alpha2']),
  [Kind.UDPRoute]: gw(Kind.UDPRoute, udpRouteSpec, ['v1alpha2']),
  [Kind.ReferenceGrant]: gw(Kind.ReferenceGrant, referenceGrantSpec, ['v1beta1', 'v1alpha2']),
  [Kind.BackendTLSPolicy]: gw(Kind.BackendTLSPolicy, backendTLSPolicySpec, ['v1', 'v1alpha3']),
  [Kind.XBackendTrafficPolicy]: {
    apiVersions: ['gateway.networking.x-k8s.io/v1alpha1'],
    schema: resource(Kind.XBackendTrafficPolicy, dnsSubdomainName, { spec: backendTrafficPolicySpec, status }, ['spec']),
  },
  [Kind.BackendLBPolicy]: gw(Kind.BackendLBPolicy, backendTrafficPolicySpec, ['v1alpha2']),
  [Kind.Service]: { apiVersions: ['v1'], schema: resource(Kind.Service, dns1035Name, { spec: serviceSpec, status }, []) },
  [Kind.EndpointSlice]: {
    apiVersions: ['discovery.k8s.io/v1'],
    schema: resource(Kind.EndpointSlice, dnsSubdomainName, endpointSliceBody, ['addressType', 'endpoints'], endpointAddressCheck),
  },
  [Kind.Secret]: { apiVersions: ['v1'], schema: resource(Kind.Secret, dnsSubdomainName, secretBody, [], secretCheck) },
  [Kind.ConfigMap]: { apiVersions: ['v1'], schema: resource(Kind.ConfigMap, dnsSubdomainName, configMapBody, []) },
  [Kind.Ingress]: { apiVersions: ['networking.k8s.io/v1'], schema: resource(Kind.Ingress, dnsSubdomainName, { spec: ingressSpec, status }, []) },
  [Kind.IngressClass]: { apiVersions: ['networking.k8s.io/v1'], schema: resource(Kind.IngressClass, dnsSubdomainName, { spec: ingressClassSpec }, []) },
  [Kind.Namespace]: { apiVersions: ['v1'], schema: resource(Kind.Namespace, dns1123Label, { spec: namespaceSpec, status }, []) },
  // Read by provisioned data planes (src/provision/parameters.ts checks the same schema when it
  // resolves a parametersRef); in files, so `portico check` reports a bad one where it is written.
  [Kind.GatewayParameters]: {
    apiVersions: [`${PARAMETERS_GROUP}/${PARAMETERS_VERSION}`],
    schema: resource(Kind.GatewayParameters, dnsSubdomainName, { spec: gatewayParametersSpec, status }, [], (v, report) => {
      const pdb = isObject(v.spec) && isObject(v.spec.podDisruptionBudget) ? v.spec.podDisruptionBudget : undefined;
      if (pdb && pdb.minAvailable !== undefined && pdb.maxUnavailable !== undefined) report('spec.podDisruptionBudget', 'set minAvailable or maxUnavailable, not both');
    }),
  },
};

/** Kinds validate() knows, i.e. the kinds Portico reads. */
export const KNOWN_KINDS: readonly string[] = Object.keys(KINDS);

/**
 * Field errors for one object (empty when valid). Never throws: any JSON/YAML value is
 * accepted as input and described.
 */
export function validate(resource: unknown): FieldError[] {
  if (!isObject(resource)) return [{ path: '', message: 'a manifest must be an object with apiVersion, kind and metadata' }];
  const kind = resource.kind;
  if (typeof kind !== 'string' || kind === '') return [{ path: 'kind', message: 'required field is missing' }];
  const def = KINDS[kind];
  if (!def) return [{ path: 'kind', message: `unsupported kind '${kind}'; Portico reads ${KNOWN_KINDS.join(', ')}` }];
  const errors: FieldError[] = [];
  if (typeof resource.apiVersion === 'string' && !def.apiVersions.includes(resource.apiVersion))
    errors.push({ path: 'apiVersion', message: `'${resource.apiVersion}' does not serve ${kind}; use ${def.apiVersions.join(' or ')}` });
  const schema = (typeof resource.apiVersion === 'string' && def.byVersion?.[resource.apiVersion]) || def.schema;
  walk(schema, resource, '', errors);
  return errors;
}

/** The object with CRD defaults filled in (a copy; the input is not touched). Unknown kinds come back as they are. */
export function applyDefaults<T>(resource: T): T {
  if (!isObject(resource) || typeof resource.kind !== 'string') return resource;
  const def = KINDS[resource.kind];
  if (!def) return resource;
  const schema = (typeof resource.apiVersion === 'string' && def.byVersion?.[resource.apiVersion]) || def.schema;
  return fill(schema, resource) as T;
}

/** "path: message", the form the CLI and file source print. */
export function formatFieldError(e: FieldError): string {
  return e.path ? `${e.path}: ${e.message}` : e.message;
}
