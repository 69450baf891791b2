#!/usr/bin/env -S node --max-semi-space-size=16
// Runs the compiled CLI (dist/, from `npm run build`). In a source checkout without a build,
// or whose src/ changed since the build, runs src/ through tsx instead, so
// `node bin/portico.js ...` never runs stale code.
// PORTICO_FROM_SRC=1 forces src/ (tests use it).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// glibc reads its malloc settings once, when the process is exec'd: a long-running command
// started without them (by hand, `npm start`) execs itself once more with them, as the image's
// ENV and the worker processes have them. Values kept equal to MALLOC_ENV in
// src/dataplane/heap-flags.ts (which says why; its test checks this file). A value set wins.
const MALLOC_ENV = { MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '131072' };
const LONG_RUNNING = new Set(['run', 'controller', 'dataplane']);
const missing = Object.entries(MALLOC_ENV).filter(([k]) => process.env[k] === undefined);
if (missing.length && LONG_RUNNING.has(process.argv[2]) && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, ...Object.fromEntries(missing) });
}

const dist = new URL('../dist/cli/main.js', import.meta.url);
const src = new URL('../src/cli/main.ts', import.meta.url);
const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

function srcNewerThanDist() {
  if (!existsSync(src)) return false;
  const built = statSync(dist).mtimeMs;
  for (const f of readdirSync(srcDir, { recursive: true })) {
    // .ts, and the dashboard's static files (src/observability/dashboard/), which the build copies.
    if (/\.(ts|js|css|html)$/.test(String(f)) && statSync(srcDir + f).mtimeMs > built) return true;
  }
  return false;
}

async function fromSource() {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    return false;
  }
  register();
  // Worker processes (node:cluster forks with process.execArgv) must load TypeScript too.
  process.execArgv.push('--import', import.meta.resolve('tsx'));
  const { cli } = await import(src.href);
  await cli();
  return true;
}

const haveDist = existsSync(dist);
const preferSrc = process.env.PORTICO_FROM_SRC === '1' || !haveDist || srcNewerThanDist();
if (preferSrc && existsSync(src) && (await fromSource())) {
  // ran from source
} else if (haveDist) {
  const { cli } = await import(dist.href);
  await cli();
} else {
  process.stderr.write('portico: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
