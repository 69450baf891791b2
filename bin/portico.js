#!/usr/bin/env node
// Runs the compiled CLI (dist/, from `npm run build`). In a source checkout without a build,
// falls back to running src/ through tsx, so `node bin/portico.js ...` works either way.
// PORTICO_FROM_SRC=1 forces src/ (tests use it so a stale dist/ can never be what they test).
import { existsSync } from 'node:fs';

const dist = new URL('../dist/cli/main.js', import.meta.url);
const src = new URL('../src/cli/main.ts', import.meta.url);

if (existsSync(dist) && process.env.PORTICO_FROM_SRC !== '1') {
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
  // Worker processes (node:cluster forks with process.execArgv) must load TypeScript too.
  process.execArgv.push('--import', import.meta.resolve('tsx'));
  const { cli } = await import(src.href);
  await cli();
} else {
  process.stderr.write('portico: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
