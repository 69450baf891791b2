// The golden conversion cases (testdata/<case>/in.yaml, optional options.json), shared by the
// golden, check and real-socket suites.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromFiles } from '../../src/cli/convert.js';
import { convertIngresses } from '../../src/convert/index.js';
import type { ConvertOptions } from '../../src/convert/types.js';
import type { FileProblem } from '../../src/sources/files.js';
import type { Resource } from '../../src/api/types.js';
import { DEFAULT_CONTROLLER_NAME } from '../../src/api/names.js';
import { pki } from '../fixtures/pki.js';

export const DIR = fileURLToPath(new URL('./testdata/', import.meta.url));
export const CASES = readdirSync(DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

export async function convertCase(name: string) {
  const problems: FileProblem[] = [];
  const input = await fromFiles([join(DIR, name, 'in.yaml')], problems);
  assert.deepEqual(problems, [], `${name}/in.yaml does not parse`);
  const optFile = join(DIR, name, 'options.json');
  const options: ConvertOptions = existsSync(optFile) ? JSON.parse(readFileSync(optFile, 'utf8')) : {};
  return { input, options, result: convertIngresses(input, options) };
}


const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The objects the converted manifests refer to and expect to exist. */
export function clusterObjectsFor(resources: readonly Resource[]): Resource[] {
  const out = new Map<string, Resource>();
  const put = (r: Resource) => out.set(`${r.kind}/${r.metadata.namespace ?? ''}/${r.metadata.name}`, r);
  const services = new Map<string, Set<number>>();
  for (const r of resources) {
    const ns = r.metadata.namespace ?? 'default';
    const spec = r.spec as Record<string, unknown>;
    if (r.kind === 'Gateway') {
      if (!resources.some((x) => x.kind === 'GatewayClass' && x.metadata.name === spec.gatewayClassName))
        put({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: spec.gatewayClassName as string }, spec: { controllerName: DEFAULT_CONTROLLER_NAME } });
      for (const l of spec.listeners as { tls?: { certificateRefs?: { name: string; namespace?: string }[] } }[])
        for (const c of l.tls?.certificateRefs ?? [])
          put({ apiVersion: 'v1', kind: 'Secret', metadata: { name: c.name, namespace: c.namespace ?? ns }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(pki.gateway.certPem), 'tls.key': b64(pki.gateway.keyPem) } } as unknown as Resource);
    }
    for (const rule of (spec.rules as { backendRefs?: { name: string; namespace?: string; port?: number }[] }[] | undefined) ?? [])
      for (const b of rule.backendRefs ?? []) {
        const k = `${b.namespace ?? ns}/${b.name}`;
        if (!services.has(k)) services.set(k, new Set());
        if (b.port) services.get(k)!.add(b.port);
      }
    if (r.kind === 'BackendTLSPolicy')
      for (const c of ((spec.validation as { caCertificateRefs?: { name: string }[] }).caCertificateRefs ?? []))
        put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: c.name, namespace: ns }, data: { 'ca.crt': pki.caPem } } as unknown as Resource);
  }
  for (const [k, ports] of services) {
    const [namespace, name] = k.split('/') as [string, string];
    put({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [...ports].sort().map((port) => ({ name: `p${port}`, port })) } });
  }
  return [...out.values()];
}

