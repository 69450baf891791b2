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

