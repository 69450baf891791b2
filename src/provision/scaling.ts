// The optional HorizontalPodAutoscaler and PodDisruptionBudget of a provisioned data plane
// (per Gateway or merged).

import { deploymentSpec, type DeploymentInputs } from './deployment.js';
import type { EffectiveParameters } from './parameters.js';
import type { ProvisionedMeta, ProvisionedObject } from './types.js';

export function hpaSpec(name: string, p: EffectiveParameters): Record<string, unknown> {
  const a = p.autoscaling;
  return {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
    minReplicas: a.minReplicas ?? 1,
    maxReplicas: a.maxReplicas,
    metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage ?? 80 } } },
    ],
  };
}

export function pdbSpec(selector: Record<string, string>, p: EffectiveParameters): Record<string, unknown> {
  const b = p.podDisruptionBudget;
  const spec: Record<string, unknown> = {};
  if (b.maxUnavailable !== undefined) spec.maxUnavailable = b.maxUnavailable;
  else spec.minAvailable = b.minAvailable ?? 1;
  spec.selector = { matchLabels: selector };
  // A crash-looping pod must not block node drains (policy/v1, GA in Kubernetes 1.31).
  spec.unhealthyPodEvictionPolicy = 'AlwaysAllow';
  return spec;
}

/** The data plane's Deployment, then its HPA and PDB when the parameters ask: one Gateway's and a merged class's alike. */
export function workloadObjects(d: DeploymentInputs, metadata: () => ProvisionedMeta): ProvisionedObject[] {
  const p = d.parameters;
  const objects: ProvisionedObject[] = [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: metadata(), spec: deploymentSpec(d) }];
  if (p.autoscaling.enabled) objects.push({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: metadata(), spec: hpaSpec(d.name, p) });
  if (p.podDisruptionBudget.enabled) objects.push({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: metadata(), spec: pdbSpec(d.selector, p) });
  return objects;
}
