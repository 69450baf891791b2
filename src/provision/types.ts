// Inputs and outputs of provision(): plain data, no Kubernetes client types, so the function
// stays pure and its output can be printed, diffed and golden-tested.

import type { Condition, Gateway, GatewayClass, ObjectMeta } from '../api/types.js';
import type { GatewayParameters, GatewayParametersSpec } from '../api/gatewayparameters.js';

/** What the controller knows about itself: flags and Helm values, never cluster state. */
export interface ProvisionSettings {
  /** The data-plane image, e.g. ghcr.io/portico-dev/portico:0.1.0. */
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** host:port of the controller's config stream (a Service in the controller's namespace). */
  syncAddress: string;
  /** The data plane's health/metrics listener port (/healthz, /readyz, /metrics). Default 9091. */
  healthPort?: number;
  /** Defaults for every provisioned data plane (Helm values); below GatewayClass parameters. */
  defaults?: GatewayParametersSpec;
  /** The controller's namespace: merged data planes (one per GatewayClass) live there. */
  namespace?: string;
}

export interface ProvisionInput {
  gateway: Gateway;
  gatewayClass: GatewayClass;
  /** Looks up a GatewayParameters object by namespace and name (the controller's informer cache). */
  findParameters: (namespace: string, name: string) => GatewayParameters | undefined;
  settings: ProvisionSettings;
  /**
   * Owner of the objects when it is not the Gateway: a Gateway generated from an IngressClass
   * (convert/serve.ts) is no API object, so its IngressClass owns its data plane (named
   * ingressResourceName(): that Gateway's name once, as its GatewayClass has the same name).
   */
  owner?: { object: ProvisionOwner; kind: string };
}

/** What an owner reference is made from (a Gateway, GatewayClass or IngressClass). */
export interface ProvisionOwner {
  apiVersion?: string;
  metadata: { name: string; uid?: string };
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: true;
  blockOwnerDeletion: true;
}

export interface ProvisionedMeta extends Pick<ObjectMeta, 'name' | 'namespace' | 'labels' | 'annotations'> {
  ownerReferences?: OwnerReference[];
}

/** One object to server-side apply. `spec` is the Kubernetes spec of its kind, as plain JSON. */
export interface ProvisionedObject {
  apiVersion: string;
  kind: 'ServiceAccount' | 'Service' | 'Deployment' | 'HorizontalPodAutoscaler' | 'PodDisruptionBudget';
  metadata: ProvisionedMeta;
  automountServiceAccountToken?: boolean;
  spec?: Record<string, unknown>;
}

/** A spec.addresses entry Portico could not put on the Service, and why. */
export interface UnusableAddress {
  index: number;
  value: string;
  message: string;
}

export interface AddressPlan {
  /** The IPAddress values written to the Service (loadBalancerIP, clusterIPs or externalIPs). */
  onService: string[];
  /** Entries the caller reports as Programmed False, reason AddressNotUsable. */
  unusable: UnusableAddress[];
}

/** A condition for the caller to set on the GatewayClass or the Gateway, as the spec names it. */
export interface ParametersCondition {
  on: 'GatewayClass' | 'Gateway';
  condition: Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;
}

export type ProvisionResult =
  | {
      ok: true;
      /** Base name of every object (<gateway>-<gatewayClass>, shortened and hashed when needed). */
      name: string;
      namespace: string;
      /** In apply order: ServiceAccount, Service, Deployment, then HPA and PDB when enabled. */
      objects: ProvisionedObject[];
      addresses: AddressPlan;
      /** spec.infrastructure label/annotation keys not propagated, with the reason (for a log line). */
      ignored: string[];
    }
  | { ok: false; conditions: ParametersCondition[] };
