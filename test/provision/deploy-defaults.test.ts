// The data-plane defaults that deploy/ ships (the chart's dataplane.defaults and healthPort, the
// manifests' portico-dataplane-defaults ConfigMap and flags) are the built-in ones: an install
// changes them on purpose, never because the two drifted apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { BUILT_IN_DEFAULTS } from '../../src/provision/parameters.js';
import { DEFAULT_HEALTH_PORT } from '../../src/provision/deployment.js';
import { gatewayParametersSpec } from '../../src/api/gatewayparameters.js';
import { walk, type FieldError } from '../../src/api/validate-schema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

test("the chart's dataplane values hold the built-in defaults, valid as a GatewayParameters spec", () => {
  const values = parse(fs.readFileSync(path.join(ROOT, 'deploy/helm/portico/values.yaml'), 'utf8')) as { dataplane: { defaults: unknown; healthPort: number } };
  assert.deepEqual(values.dataplane.defaults, BUILT_IN_DEFAULTS);
  assert.equal(values.dataplane.healthPort, DEFAULT_HEALTH_PORT);
  const errors: FieldError[] = [];
  walk(gatewayParametersSpec, values.dataplane.defaults, 'spec', errors);
  assert.deepEqual(errors, []);
});

test("the provisioned manifests' defaults ConfigMap and flags say the same", () => {
  const docs = parseAllDocuments(fs.readFileSync(path.join(ROOT, 'deploy/manifests/portico.yaml'), 'utf8')).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string>; spec?: { template: { spec: { containers: { args: string[] }[] } } } });
  const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === 'portico-dataplane-defaults');
  assert.ok(cm?.data);
  assert.deepEqual(parse(cm.data['dataplane-defaults.yaml']!), BUILT_IN_DEFAULTS);
  const args = docs.find((d) => d.kind === 'Deployment')!.spec!.template.spec.containers[0]!.args;
  assert.ok(args.includes('--dataplane-defaults=/etc/portico/dataplane-defaults.yaml'));
  assert.ok(args.includes(`--dataplane-health-port=${DEFAULT_HEALTH_PORT}`));
});
