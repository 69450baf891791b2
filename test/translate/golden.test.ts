// Golden tests for translate(): testdata/<case>.in.yaml (plus the shared _base.yaml) ->
// testdata/<case>.out.yaml holding every computed status and the IR.
// `npm run golden:update` rewrites the outputs and deletes outputs whose input is gone;
// review the diff like code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { expectGolden, goldenCases, goldenHousekeeping } from '../golden.js';
import { Snapshot, type Entry } from '../../src/store/snapshot.js';
import { translate } from '../../src/translate/index.js';
import { redact } from '../../src/ir/redact.js';
import type { TranslateOptions } from '../../src/translate/types.js';
import { load } from './golden-input.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'testdata');

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
