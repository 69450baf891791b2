// GatewayParameters (gateway.portico.dev/v1alpha1): the resource a GatewayClass
// `spec.parametersRef` or a Gateway `spec.infrastructure.parametersRef` points at, to shape the
// data plane Portico provisions for a Gateway (src/provision/). Its CRD is
// deploy/manifests/crd-gatewayparameters.yaml (the chart ships the same file in crds/).
// Every field is optional; see src/provision/README.md for the merge order.

import { arr, bool, int, map, obj, str, type IntOrStringSchema, type Schema } from './validate-schema.js';
import { annotationValue, labelValue, qualifiedName } from './validate-common.js';
import type { Resource } from './types.js';

export const PARAMETERS_GROUP = 'gateway.portico.dev';
export const PARAMETERS_VERSION = 'v1alpha1';
export const PARAMETERS_KIND = 'GatewayParameters';

/** An integer, or a percentage such as "50%" (Kubernetes IntOrString). */
export type IntOrPercent = number | string;

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

/** cpu / memory quantities as Kubernetes spells them ("100m", "128Mi"). */
export interface ResourceList {
  cpu?: string;
  memory?: string;
}

export interface GatewayParametersSpec {
  deployment?: {
    /** Ignored (and the Deployment's spec.replicas left out) while autoscaling is enabled. */
    replicas?: number;
    resources?: { requests?: ResourceList; limits?: ResourceList };
    nodeSelector?: Record<string, string>;
    tolerations?: Toleration[];
    /** Appended to `portico dataplane`'s arguments. */
    extraArgs?: string[];
  };
  service?: {
    type?: 'LoadBalancer' | 'ClusterIP' | 'NodePort';
    annotations?: Record<string, string>;
    externalTrafficPolicy?: 'Cluster' | 'Local';
  };
  /** A HorizontalPodAutoscaler (autoscaling/v2) on CPU utilization. */
  autoscaling?: {
    enabled?: boolean;
    minReplicas?: number;
    maxReplicas?: number;
    targetCPUUtilizationPercentage?: number;
  };
  /**
   * One data plane for every Gateway of the GatewayClass (Envoy Gateway's mergeGateways): one
   * Deployment and Service in the controller's namespace, listener ports shared, conflicts
   * across the class's Gateways reported as with one shared data plane. GatewayClass
   * parameters and controller defaults only.
   */
  mergeGateways?: boolean;
  /** A PodDisruptionBudget (policy/v1): set minAvailable or maxUnavailable, not both. */
  podDisruptionBudget?: {
    enabled?: boolean;
    minAvailable?: IntOrPercent;
    maxUnavailable?: IntOrPercent;
  };
}

export type GatewayParameters = Resource<GatewayParametersSpec>;

const QUANTITY = /^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$/;
const quantity = str({
  min: 1,
  max: 64,
  check: (v, report) => {
    if (!QUANTITY.test(v)) report('', `'${v}' is not a Kubernetes quantity; write it like '250m', '1', '128Mi' or '1Gi'`);
  },
});
const resourceList = obj({ cpu: quantity, memory: quantity });
const intOrPercent: IntOrStringSchema = {
  t: 'intOrString',
  int: int({ min: 0 }),
  str: str({
    check: (v, report) => {
      if (!/^(100|[1-9]?[0-9])%$/.test(v)) report('', `'${v}' is neither an integer nor a percentage from '0%' to '100%'`);
    },
  }),
};

/** The spec's schema: the same constraints as the CRD's OpenAPI schema, checked by src/provision. */
export const gatewayParametersSpec: Schema = obj({
  deployment: obj({
    replicas: int({ min: 0, max: 1000 }),
    resources: obj({ requests: resourceList, limits: resourceList }),
    nodeSelector: map(labelValue, { key: qualifiedName, maxProps: 32 }),
    tolerations: arr(
      obj({
        key: qualifiedName,
        operator: str({ enum: ['Exists', 'Equal'] }),
        value: labelValue,
        effect: str({ enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
        tolerationSeconds: int({ min: 0 }),
      }),
      { max: 32 },
    ),
    extraArgs: arr(
      str({
        min: 1,
        max: 1024,
        check: (v, report) => {
          if (!/^--[a-z]/.test(v)) report('', `'${v}' is not a flag; write '--name' or '--name=value' (one argument per item)`);
        },
      }),
      { max: 32 },
    ),
  }),
  service: obj({
    type: str({ enum: ['LoadBalancer', 'ClusterIP', 'NodePort'] }),
    annotations: map(annotationValue, { key: qualifiedName, maxProps: 64 }),
    externalTrafficPolicy: str({ enum: ['Cluster', 'Local'] }),
  }),
  autoscaling: obj({
    enabled: bool(),
    minReplicas: int({ min: 1, max: 1000 }),
    maxReplicas: int({ min: 1, max: 1000 }),
    targetCPUUtilizationPercentage: int({ min: 1, max: 100 }),
  }),
  mergeGateways: bool(),
  podDisruptionBudget: obj({ enabled: bool(), minAvailable: intOrPercent, maxUnavailable: intOrPercent }),
});
