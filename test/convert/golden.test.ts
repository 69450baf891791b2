// Golden conversions: testdata/<case>/in.yaml (Ingresses, IngressClasses, Services,
// ConfigMaps; optional options.json with ConvertOptions) -> out.yaml (what `portico convert`
// prints: the report as comments, then the objects), report.txt (the stderr table) and
// verify.txt (the --verify table). PORTICO_UPDATE_GOLDEN=1 rewrites them; review the diff.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { convertIngresses } from '../../src/convert/index.js';
import { reportComments, reportTable } from '../../src/convert/report.js';
import { verifyConversion, verifyTable } from '../../src/convert/verify/index.js';
import { UPDATE } from '../golden.js';
import { CASES, convertCase, DIR } from './cases.js';

function expectFile(file: string, got: string): void {
  if (UPDATE) {
    writeFileSync(file, got);
    return;
  }
  assert.ok(existsSync(file), `${file} missing: run PORTICO_UPDATE_GOLDEN=1 node --import tsx --test test/convert/golden.test.ts and review it`);
  assert.equal(got, readFileSync(file, 'utf8'));
}

for (const name of CASES) {
  test(`convert golden: ${name}`, async () => {
    const { input, options, result } = await convertCase(name);
    const yaml = reportComments(result.report) + result.resources.map((r) => `---\n${stringify(r, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
    expectFile(join(DIR, name, 'out.yaml'), yaml);
    expectFile(join(DIR, name, 'report.txt'), reportTable(result.report));
    expectFile(join(DIR, name, 'verify.txt'), verifyTable(verifyConversion(input, result, options)));
    // The function is pure: a second run gives the same objects.
    assert.deepEqual(convertIngresses(input, options), result);
  });
}

test('convert golden: at least 40 cases', () => {
  assert.ok(CASES.length >= 40, `only ${CASES.length} cases`);
});
