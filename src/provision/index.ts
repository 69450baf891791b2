// provision(): Gateway -> the Kubernetes objects of its own data plane (ServiceAccount,
// Service, Deployment, optionally HorizontalPodAutoscaler and PodDisruptionBudget). Pure like
// translate(): no I/O, no clock, no randomness; map keys are sorted, so the same input gives
// the same bytes. The controller server-side applies the objects (src/provision/README.md).

import { healthPort } from './deployment.js';
import { infrastructureMetadata, ingressResourceName, objectMeta, ownLabels, resourceName, selectorLabels } from './names.js';
import { resolveParameters } from './parameters.js';
import { listenerPorts, planAddresses, serviceSpec } from './service.js';
import { workloadObjects } from './scaling.js';
import type { ProvisionInput, ProvisionResult, ProvisionedObject } from './types.js';

export type * from './types.js';
export { resolveParameters, finderOf, mergesGateways, BUILT_IN_DEFAULTS, type EffectiveParameters } from './parameters.js';
export { provisionMerged, mergedIdentity, type MergedProvisionInput, type MergedProvisionResult } from './merged.js';
export { gatewayNameLabelValue, resourceName, ingressResourceName, mergedResourceName, GATEWAY_NAME_LABEL } from './names.js';
export { statusAddresses } from './addresses.js';
export { syncSecretName } from './deployment.js';

export function provision(input: ProvisionInput): ProvisionResult {
  const { gateway, gatewayClass, settings } = input;
  const verdict = resolveParameters(gatewayClass, gateway, input.findParameters, settings.defaults);
  if (!verdict.ok) return { ok: false, conditions: verdict.conditions };
  const p = verdict.parameters;
  // Owned by an IngressClass: the Gateway generated for it, named like its GatewayClass.
  const name =
    input.owner?.kind === 'IngressClass'
      ? ingressResourceName(gateway.metadata.name)
      : resourceName(gateway.metadata.name, gateway.spec?.gatewayClassName ?? gatewayClass.metadata.name);
  const namespace = gateway.metadata.namespace ?? 'default';
  const selector = selectorLabels(gateway, name);
  const own = ownLabels(gateway, name);
  const infra = infrastructureMetadata(gateway, own);
  const labels = { ...infra.labels, ...own };
  const meta = (annotations: Record<string, string> = infra.annotations) => objectMeta(gateway, name, labels, annotations, input.owner);

  const ports = listenerPorts(gateway);
  const serviceType = p.service.type ?? 'LoadBalancer';
  const addresses = planAddresses(gateway, serviceType);

  const objects: ProvisionedObject[] = [];
  objects.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(), automountServiceAccountToken: false });
  objects.push({
    apiVersion: 'v1',
    kind: 'Service',
    // parameters' service.annotations are Service-specific, so they win over spec.infrastructure's
    metadata: meta({ ...infra.annotations, ...(p.service.annotations ?? {}) }),
    spec: serviceSpec(ports, selector, p, addresses.fields),
  });
  objects.push(
    ...workloadObjects(
      {
        identity: `${namespace}/${gateway.metadata.name}`,
        name,
        selector,
        podLabels: labels,
        podAnnotations: infra.annotations,
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

  return {
    ok: true,
    name,
    namespace,
    objects,
    addresses: { onService: addresses.onService, unusable: addresses.unusable },
    ignored: infra.ignored,
  };
}
