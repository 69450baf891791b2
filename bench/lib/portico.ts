// Portico under test: compiled once per bench run from the working tree into bench/.run/dist
// (plain `node`, no TypeScript loader in the measured process), then `portico run --workers N`
// on a generated manifest directory.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { scenarioManifests } from './manifests.js';
import { run, startProcess, waitForPort, type Managed } from './proc.js';
import type { Scenario } from './scenarios.js';
import { mallocEnv, SEMI_SPACE_FLAG } from '../../src/dataplane/heap-flags.js';

export interface PorticoCommand {
  cmd: string;
  args: string[];
  /** The environment the image gives Portico (src/dataplane/heap-flags.ts: glibc's malloc settings). */
  env: NodeJS.ProcessEnv;
}

const env: NodeJS.ProcessEnv = { ...process.env, ...mallocEnv() };

/**
 * Resolves how to start Portico. `override` ("node bin/portico.js") skips the build.
 * Returns a reason string when Portico cannot run yet (e.g. the CLI has not landed).
 */
export async function preparePortico(ctx: BenchContext, override?: string, cpuProfDir?: string): Promise<PorticoCommand | string> {
  if (override) {
    const [cmd, ...args] = override.split(/\s+/).filter(Boolean);
    return { cmd: cmd!, args, env };
  }
  if (!existsSync(join(ctx.repoDir, 'src/cli/main.ts'))) return 'src/cli/main.ts does not exist yet';
  const outDir = join(ctx.runDir, 'dist');
  rmSync(outDir, { recursive: true, force: true });
  const tsc = join(ctx.repoDir, 'node_modules/typescript/bin/tsc');
  // tsc still emits when some unrelated file has a type error; only a missing entry point is fatal.
  const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--outDir', outDir], {
    cwd: ctx.repoDir,
    timeoutMs: 300_000,
  });
  const main = join(outDir, 'cli/main.js');
  if (!existsSync(main)) return `build produced no ${main}: ${(r.stdout + r.stderr).slice(0, 500)}`;
  if (r.code !== 0) process.stderr.write(`note: tsc reported type errors (build used anyway):\n${r.stdout.slice(0, 1500)}\n`);
  // cli/main.js only exports cli(); bin/portico.js calls it but prefers ./dist, which may be stale.
  const launcher = join(outDir, 'portico.mjs');
  writeFileSync(launcher, "import { cli } from './cli/main.js';\nawait cli();\n");
  // Workers are forked with the primary's execArgv, so each process writes its own profile on exit.
  const prof = cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : [];
  // The V8 flag bin/portico.js and the image start Portico with (src/dataplane/heap-flags.ts).
  return { cmd: process.execPath, args: [SEMI_SPACE_FLAG, ...prof, launcher], env };
}

/** Starts `portico run <dir> --workers N` and waits for its listener. */
export async function startPorticoOn(
  ctx: BenchContext,
  pc: PorticoCommand,
  manifestDir: string,
  port: number,
  name: string,
  timeoutMs = 120_000,
  extraArgs: string[] = [],
): Promise<Managed> {
  const m = startProcess(name, pc.cmd, [...pc.args, 'run', manifestDir, '--workers', String(ctx.workers), ...extraArgs], {
    cwd: ctx.repoDir,
    logFile: join(manifestDir, '..', `${name.replace(/\W+/g, '-')}.log`),
    env: pc.env,
  });
  await waitForPort(m, port, timeoutMs);
  return m;
}

/** `variant` portico-nometrics: the same on its own port with `--metrics off` (the cost of metrics). */
export async function startPortico(ctx: BenchContext, pc: PorticoCommand, s: Scenario, variant: 'portico' | 'portico-nometrics' = 'portico'): Promise<Managed> {
  const port = ctx.ports[variant];
  const dir = join(ctx.runDir, variant, s.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'manifests.yaml'),
    scenarioManifests(s, {
      listenPort: port,
      backendA: ctx.ports.backendA,
      backendB: ctx.ports.backendB,
      certPem: ctx.cert.certPem,
      keyPem: ctx.cert.keyPem,
    }),
  );
  return startPorticoOn(ctx, pc, dir, port, `${variant}-${s.name}`, 120_000, variant === 'portico-nometrics' ? ['--metrics', 'off'] : []);
}
