// Golden tests for translate(): testdata/<case>.in.yaml (plus the shared _base.yaml) ->
// testdata/<case>.out.yaml holding every computed status and the IR.
// `npm run golden:update` rewrites the outputs and deletes outputs whose input is gone;
// review the diff like code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { expectGolden, goldenCases, goldenHousekeeping } from '../golden.js';
import type { Resource } from '../../src/api/types.js';
import { Snapshot, type Entry } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { redact } from '../../src/ir/redact.js';
import type { TranslateOptions } from '../../src/translate/types.js';
import { strictErrors } from './strict.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

/** A document of this kind in a case sets translate() options instead of being a resource. */
interface GoldenOptions {
  kind: 'GoldenOptions';
  controllerName?: string;
  /** "namespace/name" -> address returned by addressFor. */
  addresses?: Record<string, string>;
  /** IPs addressUsable() refuses. */
  unusableAddresses?: string[];
  /** IR Port names the data plane could not bind -> the error (portUnavailable). */
  portUnavailable?: Record<string, string>;
  /** TranslateOptions.dataPlanes: per-gateway for provisioned data planes. */
  dataPlanes?: 'shared' | 'per-gateway';
}

function load(file: string): { entries: Entry[]; options: TranslateOptions } {
  const text = readFileSync(file, 'utf8');
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
  const entries: Entry[] = [];
  const options: TranslateOptions = {};
  const errors: string[] = [];
  docs.forEach((d, i) => {
    if (d.errors.length) errors.push(...d.errors.map((e) => `${file} doc ${i}: ${e.message}`));
    const js = d.toJS() as unknown;
    if (js === null || js === undefined) return;
    if ((js as { kind?: string }).kind === 'GoldenOptions') {
      const o = js as GoldenOptions;
      if (o.controllerName) options.controllerName = o.controllerName;
      const addrs = o.addresses;
      if (addrs) options.addressFor = (ns, name) => addrs[`${ns}/${name}`] ?? '0.0.0.0';
      const unusable = o.unusableAddresses;
      if (unusable) options.addressUsable = (ip) => !unusable.includes(ip);
      if (o.portUnavailable) options.portUnavailable = new Map(Object.entries(o.portUnavailable));
      if (o.dataPlanes) options.dataPlanes = o.dataPlanes;
      return;
    }
    errors.push(...strictErrors(js, `${file} doc ${i}`));
    entries.push({ resource: js as Resource, origin: file });
  });
  assert.deepEqual(errors, [], 'input must parse strictly');
  return { entries, options };
}

/** CA bundles are long and identical across cases: the output names them instead (certificates are fingerprints already). */
function normalise(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalise(v, k);
    return out;
  }
  if (typeof value === 'string') {
    if (key === 'lastTransitionTime') return 'normalised';
    if (key === 'caPem') {
      const n = (value.match(/-----BEGIN /g) ?? []).length;
      return `<${n} PEM block${n === 1 ? '' : 's'}, ${value.length} bytes>`;
    }
  }
  return value;
}

export function render(entries: Entry[], options: TranslateOptions): string {
  const result = translate(new Snapshot(entries), options);
  // The redacted form people see on the admin API (ir/redact.ts): certificates by fingerprint, no key.
  return YAML.stringify(normalise(redact({ statuses: result.statuses, ir: result.ir })), { aliasDuplicateObjects: false, lineWidth: 0 });
}

const base = load(join(DIR, '_base.yaml'));
const cases = goldenCases(DIR);

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const input = load(join(DIR, `${name}.in.yaml`));
    const entries = [...base.entries, ...input.entries];
    // A case adds objects; it never replaces one from _base.yaml (use another name instead),
    // so that the reversed-order determinism check below is meaningful.
    const seen = new Set<string>();
    for (const e of entries) {
      const m = e.resource.metadata;
      const key = `${e.resource.kind}/${m.namespace ?? ''}/${m.name}`;
      assert.ok(!seen.has(key), `${name}: ${key} is defined twice (case and _base.yaml?)`);
      seen.add(key);
    }
    const got = render(entries, input.options);
    // Determinism: input order must not matter.
    assert.equal(render([...entries].reverse(), input.options), got, 'output depends on input order');
    expectGolden(DIR, name, got);
  });
}

goldenHousekeeping('golden', DIR, cases, 60);
