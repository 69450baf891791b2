// The GatewayParameters CRD (deploy/) and the schema provision() validates with
// (src/api/gatewayparameters.ts) must describe the same fields, enums and integer bounds; the
// chart's crds/ copy must be the manifests' file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { PARAMETERS_GROUP, PARAMETERS_KIND, PARAMETERS_VERSION, gatewayParametersSpec } from '../../src/api/gatewayparameters.js';
import type { Schema } from '../../src/api/validate-schema.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const MANIFEST = join(ROOT, 'deploy/manifests/crd-gatewayparameters.yaml');
const CHART = join(ROOT, 'deploy/helm/portico/crds/gatewayparameters.yaml');

interface Open {
  type?: string;
  properties?: Record<string, Open>;
  additionalProperties?: Open;
  items?: Open;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  'x-kubernetes-int-or-string'?: boolean;
}

function compare(s: Schema, o: Open, path: string, errors: string[]): void {
  const kind = o['x-kubernetes-int-or-string'] ? 'intOrString' : o.additionalProperties ? 'map' : o.type;
  const want = { string: 'string', int: 'integer', bool: 'boolean', object: 'object', array: 'array', map: 'map', intOrString: 'intOrString', any: o.type } as const;
  if (want[s.t] !== kind) return void errors.push(`${path}: schema ${s.t}, CRD ${kind}`);
  if (s.t === 'object') {
    const a = Object.keys(s.fields).sort();
    const b = Object.keys(o.properties ?? {}).sort();
    if (a.join() !== b.join()) errors.push(`${path}: fields ${a.join(',')} vs CRD ${b.join(',')}`);
    for (const k of a) if (o.properties?.[k]) compare(s.fields[k]!, o.properties[k]!, `${path}.${k}`, errors);
  } else if (s.t === 'map') compare(s.value, o.additionalProperties!, `${path}[*]`, errors);
  else if (s.t === 'array') compare(s.items, o.items!, `${path}[]`, errors);
  else if (s.t === 'string' && (s.enum ?? []).join() !== (o.enum ?? []).join()) errors.push(`${path}: enum ${s.enum} vs CRD ${o.enum}`);
  else if (s.t === 'int' && (s.min !== o.minimum || s.max !== o.maximum)) errors.push(`${path}: bounds ${s.min}..${s.max} vs CRD ${o.minimum}..${o.maximum}`);
}

test('GatewayParameters CRD: the chart ships the manifests file unchanged', () => {
  assert.equal(readFileSync(CHART, 'utf8'), readFileSync(MANIFEST, 'utf8'));
});

test('GatewayParameters CRD: names, and the spec schema matches src/api/gatewayparameters.ts', () => {
  const crd = YAML.parse(readFileSync(MANIFEST, 'utf8'));
  assert.equal(crd.spec.group, PARAMETERS_GROUP);
  assert.equal(crd.spec.names.kind, PARAMETERS_KIND);
  assert.equal(crd.metadata.name, `${crd.spec.names.plural}.${PARAMETERS_GROUP}`);
  assert.equal(crd.spec.scope, 'Namespaced');
  const version = crd.spec.versions.find((v: { name: string }) => v.name === PARAMETERS_VERSION);
  assert.ok(version?.served && version.storage);
  const errors: string[] = [];
  compare(gatewayParametersSpec, version.schema.openAPIV3Schema.properties.spec, 'spec', errors);
  assert.deepEqual(errors, []);
});
