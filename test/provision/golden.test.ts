// Golden tests for provision(), the translator's way (test/translate/golden.test.ts):
// testdata/<case>.in.yaml (GatewayClasses, Gateways, GatewayParameters, and optionally one
// GoldenSettings document) -> testdata/<case>.out.yaml holding, per Gateway, the objects to
// apply or the InvalidParameters conditions. `npm run golden:update` rewrites the outputs and
// deletes outputs whose input is gone; review the diff like code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { expectGolden, goldenCases, goldenHousekeeping } from '../golden.js';
import type { Gateway, GatewayClass } from '../../src/api/types.js';
import type { GatewayParameters } from '../../src/api/gatewayparameters.js';
import { finderOf, mergedIdentity, mergesGateways, provision, provisionMerged, type ProvisionSettings } from '../../src/provision/index.js';
import { strictErrors } from '../translate/strict.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

const SETTINGS: ProvisionSettings = {
  image: 'ghcr.io/portico-dev/portico:0.1.0',
  syncAddress: 'portico-sync.portico-system.svc:18000',
};

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

function load(file: string): { docs: Doc[]; settings: ProvisionSettings } {
  const errors: string[] = [];
  const docs: Doc[] = [];
  let settings = SETTINGS;
  YAML.parseAllDocuments(readFileSync(file, 'utf8'), { uniqueKeys: true }).forEach((d, i) => {
    if (d.errors.length) errors.push(...d.errors.map((e) => `${file} doc ${i}: ${e.message}`));
    const js = d.toJS() as Doc | null;
    if (!js) return;
    if (js.kind === 'GoldenSettings') {
      const { kind: _k, ...rest } = js as unknown as ProvisionSettings & { kind: string };
      const known = ['image', 'imagePullPolicy', 'syncAddress', 'healthPort', 'defaults', 'namespace'];
      for (const k of Object.keys(rest)) if (!known.includes(k)) errors.push(`${file} doc ${i}: GoldenSettings: unknown field ${k}`);
      settings = { ...SETTINGS, ...rest };
      return;
    }
    if (js.kind === 'GatewayParameters' || js.kind === 'IngressClass') {
      // Checked by provision() itself (invalid parameters are a case); only the envelope here.
      for (const k of Object.keys(js)) if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(k)) errors.push(`${file} doc ${i}: unknown field ${k}`);
    } else errors.push(...strictErrors(js, `${file} doc ${i}`));
    docs.push(js);
  });
  assert.deepEqual(errors, [], 'input must parse strictly');
  return { docs, settings };
}

export function render(docs: Doc[], settings: ProvisionSettings): string {
  const of = <T>(kind: string) => docs.filter((d) => d.kind === kind) as unknown as T[];
  const classes = of<GatewayClass>('GatewayClass');
  const find = finderOf(of<GatewayParameters>('GatewayParameters'));
  const gateways = of<Gateway>('Gateway').sort((a, b) =>
    `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
  );
  const out: Record<string, unknown> = {};
  const merged = new Map<string, Gateway[]>();
  for (const gateway of gateways) {
    const gatewayClass = classes.find((c) => c.metadata.name === gateway.spec?.gatewayClassName);
    assert.ok(gatewayClass, `GatewayClass ${gateway.spec?.gatewayClassName} missing from the case`);
    if (mergesGateways(gatewayClass, find, settings.defaults)) merged.set(gatewayClass.metadata.name, [...(merged.get(gatewayClass.metadata.name) ?? []), gateway]);
    else {
      // `golden.portico.dev/owner-ingressclass: <name>` stands for a Gateway generated from that IngressClass (convert/serve.ts).
      const ownerName = gateway.metadata.annotations?.['golden.portico.dev/owner-ingressclass'];
      const ingressClass = ownerName === undefined ? undefined : docs.find((d) => d.kind === 'IngressClass' && d.metadata.name === ownerName);
      assert.ok(ownerName === undefined || ingressClass, `IngressClass ${ownerName} missing from the case`);
      const owner = ingressClass ? { owner: { object: ingressClass, kind: 'IngressClass' } } : {};
      out[`${gateway.metadata.namespace}/${gateway.metadata.name}`] = provision({ gateway, gatewayClass, findParameters: find, settings, ...owner });
    }
  }
  // A merged class: its shared data plane under `GatewayClass/<name>`, then each Gateway's view.
  // Gateways annotated `golden.portico.dev/accepted: "false"` stand for ones the translator refused.
  for (const name of [...merged.keys()].sort()) {
    const list = merged.get(name)!;
    const refused = new Set(list.filter((g) => g.metadata.annotations?.['golden.portico.dev/accepted'] === 'false').map((g) => `${g.metadata.namespace}/${g.metadata.name}`));
    const gatewayClass = classes.find((c) => c.metadata.name === name)!;
    const m = provisionMerged({ gatewayClass, gateways: list, accepted: (k) => !refused.has(k), findParameters: find, settings });
    out[mergedIdentity(name)] = { members: m.members, ...m.shared };
    Object.assign(out, m.gateways);
  }
  return YAML.stringify(out, { aliasDuplicateObjects: false, lineWidth: 0 });
}

const cases = goldenCases(DIR);

for (const name of cases) {
  test(`provision golden: ${name}`, () => {
    const { docs, settings } = load(join(DIR, `${name}.in.yaml`));
    const got = render(docs, settings);
    assert.equal(render([...docs].reverse(), settings), got, 'output depends on input order');
    expectGolden(DIR, name, got);
  });
}

goldenHousekeeping('provision golden', DIR, cases, 8);
