// The golden-file mechanics shared by every golden suite (translate/, provision/):
// testdata/<case>.in.yaml -> testdata/<case>.out.yaml; PORTICO_UPDATE_GOLDEN=1 (npm run
// golden:update) rewrites the outputs and prunes outputs whose input is gone.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const UPDATE = process.env.PORTICO_UPDATE_GOLDEN === '1';

/** The case names in `dir`: every `<case>.in.yaml` except those starting with `_` (shared bases). */
export function goldenCases(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.in.yaml') && !f.startsWith('_'))
    .map((f) => f.slice(0, -'.in.yaml'.length))
    .sort();
}

/** Compare `got` with `<dir>/<name>.out.yaml`, or write it when updating. */
export function expectGolden(dir: string, name: string, got: string): void {
  const outFile = join(dir, `${name}.out.yaml`);
  if (UPDATE) {
    writeFileSync(outFile, got);
    return;
  }
  assert.ok(existsSync(outFile), `${outFile} missing: run npm run golden:update and review it`);
  assert.equal(got, readFileSync(outFile, 'utf8'));
}

/** The suite's orphan check (outputs without an input) and its minimum case count. */
export function goldenHousekeeping(label: string, dir: string, cases: string[], atLeast: number): void {
  test(`${label}: no orphaned outputs`, () => {
    const orphans = readdirSync(dir)
      .filter((f) => f.endsWith('.out.yaml'))
      .filter((f) => !cases.includes(f.slice(0, -'.out.yaml'.length)));
    if (UPDATE) {
      for (const f of orphans) unlinkSync(join(dir, f));
      return;
    }
    assert.deepEqual(orphans, [], 'outputs without an input: run npm run golden:update');
  });
  test(`${label}: at least ${atLeast} cases`, () => {
    assert.ok(cases.length >= atLeast, `only ${cases.length} cases`);
  });
}
