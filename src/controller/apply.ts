// The API calls provisioning makes: server-side apply of the objects src/provision computes
// (one field manager, force: the fields we send are ours), and listing / deleting the ones
// that dropped out. Only the kinds the controller provisions, nothing else.

import type { ApiClient } from '../sources/kubernetes.js';
import { ApiError } from '../sources/kubernetes.js';

/** The field manager of every provisioned object. */
export const FIELD_MANAGER = 'portico-provisioner';

export type ProvisionedKind = 'ServiceAccount' | 'Secret' | 'Service' | 'Deployment' | 'HorizontalPodAutoscaler' | 'PodDisruptionBudget';

const API: Record<ProvisionedKind, { base: string; plural: string }> = {
  ServiceAccount: { base: '/api/v1', plural: 'serviceaccounts' },
  Secret: { base: '/api/v1', plural: 'secrets' },
  Service: { base: '/api/v1', plural: 'services' },
  Deployment: { base: '/apis/apps/v1', plural: 'deployments' },
  HorizontalPodAutoscaler: { base: '/apis/autoscaling/v2', plural: 'horizontalpodautoscalers' },
  PodDisruptionBudget: { base: '/apis/policy/v1', plural: 'poddisruptionbudgets' },
};

/** Every kind provisioning may create, in apply order (the Secret before the Deployment mounting it). */
export const PROVISIONED_KINDS: readonly ProvisionedKind[] = ['ServiceAccount', 'Secret', 'Service', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'];

export interface ObjectRef {
  kind: ProvisionedKind;
  namespace: string;
  name: string;
}

export interface ListedObject {
  metadata: { name: string; namespace: string; uid: string; labels?: Record<string, string>; ownerReferences?: { kind: string; uid: string }[] };
}

function objectPath(r: ObjectRef): string {
  const a = API[r.kind];
  return `${a.base}/namespaces/${encodeURIComponent(r.namespace)}/${a.plural}/${encodeURIComponent(r.name)}`;
}

/** Server-side apply: creates or updates, taking over the fields sent (force). */
export async function applyObject(client: ApiClient, o: { kind: string; metadata: { name: string; namespace?: string } }): Promise<void> {
  await client.json('PATCH', objectPath({ kind: o.kind as ProvisionedKind, namespace: o.metadata.namespace ?? 'default', name: o.metadata.name }), {
    body: o,
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: FIELD_MANAGER, force: 'true' },
    timeoutMs: 30_000,
  });
}

/** Objects of `kind` in every namespace carrying the labels of `selector` (k=v,k=v). */
export async function listObjects(client: ApiClient, kind: ProvisionedKind, selector: string): Promise<ListedObject[]> {
  const a = API[kind];
  const list = await client.json<{ items?: ListedObject[] }>('GET', `${a.base}/${a.plural}`, { query: { labelSelector: selector }, timeoutMs: 60_000 });
  return list.items ?? [];
}

/** Deletes one object if it is still the one seen (uid precondition); gone already is fine. */
export async function deleteObject(client: ApiClient, r: ObjectRef, uid?: string): Promise<void> {
  const body = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background', ...(uid ? { preconditions: { uid } } : {}) };
  try {
    await client.json('DELETE', objectPath(r), { body, timeoutMs: 30_000 });
  } catch (err) {
    if (err instanceof ApiError && (err.statusCode === 404 || err.statusCode === 409)) return;
    throw err;
  }
}

/** GET one object; undefined when it does not exist. */
export async function getObject<T>(client: ApiClient, r: ObjectRef): Promise<T | undefined> {
  const res = await client.request('GET', objectPath(r));
  if (res.status === 404) return undefined;
  if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, `GET ${objectPath(r)}: ${res.status}`);
  return res.body as T;
}

/** POST one object; false when it exists already (409). */
export async function createObject(client: ApiClient, kind: ProvisionedKind, namespace: string, o: unknown): Promise<boolean> {
  const a = API[kind];
  try {
    await client.json('POST', `${a.base}/namespaces/${encodeURIComponent(namespace)}/${a.plural}`, { body: o, timeoutMs: 30_000 });
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 409) return false;
    throw err;
  }
}

/**
 * Before a Deployment is applied without spec.replicas (an HPA now owns the count): if our field
 * manager still owns replicas, hand the field to another manager at its current value first, so
 * that dropping it from our apply does not reset it to 1 (the Kubernetes server-side apply docs,
 * "Transferring ownership"). The HPA's own writes then take it over.
 */
export async function handOverReplicas(client: ApiClient, r: { namespace: string; name: string }): Promise<boolean> {
  type Managed = { manager?: string; operation?: string; fieldsV1?: { 'f:spec'?: Record<string, unknown> } };
  const d = await getObject<{ metadata: { managedFields?: Managed[] }; spec?: { replicas?: number } }>(client, { kind: 'Deployment', ...r });
  const ours = d?.metadata.managedFields?.some((m) => m.manager === FIELD_MANAGER && m.operation === 'Apply' && m.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined);
  if (!d || !ours || d.spec?.replicas === undefined) return false;
  await client.json('PATCH', `/apis/apps/v1/namespaces/${encodeURIComponent(r.namespace)}/deployments/${encodeURIComponent(r.name)}`, {
    body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: r.name, namespace: r.namespace }, spec: { replicas: d.spec.replicas } },
    contentType: 'application/apply-patch+yaml',
    query: { fieldManager: `${FIELD_MANAGER}-handover-to-hpa` },
    timeoutMs: 30_000,
  });
  return true;
}
