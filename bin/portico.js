#!/usr/bin/env node
// Runs the compiled CLI (dist/, from `npm run build`). In a source checkout without a build,
// falls back to running src/ through tsx, so `node bin/portico.js ...` works either way.
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/main.js', import.meta.url);
const src = new URL('../src/cli/main.ts', import.meta.url);

if (existsSync(dist)) {
  const { cli } = await import(dist.href);
  await cli();
} else if (existsSync(src)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('portico: dist/ is missing; run `npm run build` first\n');
    process.exit(1);
  }
  register();
  const { cli } = await import(src.href);
  await cli();
} else {
  process.stderr.write('portico: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
