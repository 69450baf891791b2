// `npm run bench`: Portico against nginx and HAProxy (and the backend alone, the ceiling),
// same worker count and client settings, rounds interleaved, medians reported.
// See bench/README.md for what each scenario does and how to read the table.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type BenchArgs } from './lib/args.js';
import { ensureCert } from './lib/certs.js';
import type { BenchContext } from './lib/context.js';
import { measureControlPlane, secondCert } from './lib/control-plane.js';
import { measureControllerMode } from './lib/cp-controller.js';
import { ensureTools, machine, toolVersions } from './lib/env.js';
import { startHaproxy } from './lib/haproxy.js';
import { runLoad, type LoadSettings } from './lib/load.js';
import { startBackend, startNginxProxy } from './lib/nginx.js';
import { preparePortico, startPortico, type PorticoCommand } from './lib/portico.js';
import { verifyWithin } from './lib/probe.js';
import { killAllSync, portOpen, sampleRss, stopAll, stopProcess, treeCpuSeconds, type Managed } from './lib/proc.js';
import { markdown, toRows, type Cell, type ControlPlaneRow, type ResultsFile } from './lib/report.js';
import { SCENARIOS, portsFrom, targetPort, type ProxyName, type Scenario } from './lib/scenarios.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoDir = resolve(benchDir, '..');

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function startProxy(ctx: BenchContext, proxy: ProxyName, s: Scenario, backend: Managed, pc: PorticoCommand | string): Promise<Managed> {
  switch (proxy) {
    case 'direct':
      return backend;
    case 'nginx':
      return startNginxProxy(ctx, s);
    case 'haproxy':
      return startHaproxy(ctx, s);
    case 'portico':
    case 'portico-nometrics':
      if (typeof pc === 'string') throw new Error(`Portico unavailable: ${pc}`);
      return startPortico(ctx, pc, s, proxy);
  }
}

async function runScenario(
  ctx: BenchContext,
  a: BenchArgs,
  s: Scenario,
  backend: Managed,
  pc: PorticoCommand | string,
  settings: LoadSettings,
): Promise<Cell[]> {
  const cells = new Map<ProxyName, Cell>();
  const procs = new Map<ProxyName, Managed>();
  for (const proxy of a.proxies) {
    const cell: Cell = { scenario: s.name, proxy, samples: [] };
    cells.set(proxy, cell);
    try {
      const m = await startProxy(ctx, proxy, s, backend, pc);
      if (proxy !== 'direct') procs.set(proxy, m);
      // Portico may listen before a large route set is loaded: give it time to converge.
      const problem = await verifyWithin(s, targetPort(ctx.ports, proxy, s), proxy !== 'direct', proxy.startsWith('portico') ? 60_000 : 10_000);
      if (problem) throw new Error(`failed verification: ${problem}`);
      if (proxy === 'direct') procs.set(proxy, m);
    } catch (e) {
      cell.note = (e as Error).message.split('\n')[0];
      log(`${s.name} / ${proxy}: ${cell.note}`);
      const m = procs.get(proxy);
      if (m && proxy !== 'direct') await stopProcess(m);
      procs.delete(proxy);
    }
  }
  const ready = a.proxies.filter((p) => procs.has(p));
  try {
    if (a.warmupSec > 0) {
      for (const proxy of ready) {
        await runLoad(s, targetPort(ctx.ports, proxy, s), settings, a.warmupSec, ctx.runDir).catch(() => undefined);
      }
    }
    for (let round = 1; round <= a.rounds; round++) {
      for (const proxy of ready) {
        const cell = cells.get(proxy)!;
        const m = procs.get(proxy)!;
        if (m.exitCode !== undefined) continue;
        const rss = sampleRss(m.pid);
        const cpu0 = treeCpuSeconds(m.pid);
        try {
          const r = await runLoad(s, targetPort(ctx.ports, proxy, s), settings, a.durationSec, ctx.runDir);
          const rssMb = rss.stop();
          const cpuUsPerReq = r.requests > 0 ? ((treeCpuSeconds(m.pid) - cpu0) * 1e6) / r.requests : NaN;
          // A proxy answering errors fast must not earn a throughput figure.
          if (r.errors > r.requests * 0.01) {
            cell.note = `round ${round}: ${r.errors} errors in ${r.requests} requests (over 1%), round not counted`;
          } else {
            cell.samples.push({ ...r, rssMb, cpuUsPerReq });
          }
          log(
            `${s.name} round ${round} ${proxy.padEnd(7)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  RSS ${rssMb.toFixed(1)} MiB  CPU ${cpuUsPerReq.toFixed(0)} µs/req${r.errors ? `  errors ${r.errors}` : ''}`,
          );
        } catch (e) {
          rss.stop();
          cell.note = (e as Error).message.split('\n')[0];
          log(`${s.name} round ${round} ${proxy}: ${cell.note}`);
        }
        if (m.exitCode !== undefined) {
          cell.note = `${proxy} exited (code ${m.exitCode}) during the run`;
          log(`${s.name}: ${cell.note}`);
        }
      }
    }
  } finally {
    for (const [proxy, m] of procs) if (proxy !== 'direct') await stopProcess(m);
  }
  return a.proxies.map((p) => cells.get(p)!);
}

async function main(): Promise<number> {
  let a: BenchArgs;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    const help = process.argv.includes('--help') || process.argv.includes('-h');
    (help ? process.stdout : process.stderr).write(`${(e as Error).message}\n`);
    return help ? 0 : 2;
  }
  const runDir = join(benchDir, '.run');
  mkdirSync(runDir, { recursive: true });
  const wwwDir = join(runDir, 'www');
  mkdirSync(wwwDir, { recursive: true });
  writeFileSync(join(wwwDir, '1m.bin'), Buffer.alloc(1024 * 1024, 'p'));

  await ensureTools(a.install);
  const ports = portsFrom(a.basePort);
  for (const [name, port] of Object.entries(ports)) {
    if (await portOpen(port)) throw new Error(`127.0.0.1:${port} (${name}) is already in use: pick another --base-port`);
  }
  const ctx: BenchContext = { runDir, repoDir, ports, cert: await ensureCert(runDir), wwwDir, workers: a.workers };
  const settings: LoadSettings = {
    durationSec: a.durationSec,
    connections: a.connections,
    threads: 1,
    h2Clients: a.h2Clients,
    h2Streams: a.h2Streams,
  };

  let pc: PorticoCommand | string = 'not requested';
  if (a.proxies.some((p) => p.startsWith('portico')) || a.controlPlane) {
    log('building Portico from src/ ...');
    const profDir = a.cpuProf ? join(runDir, 'prof') : undefined;
    if (profDir) mkdirSync(profDir, { recursive: true });
    pc = await preparePortico(ctx, a.porticoCmd, profDir);
    if (typeof pc === 'string') log(`Portico unavailable: ${pc} (other proxies still measured)`);
  }

  const started = Date.now();
  const loadBefore = os.loadavg()[0]!;
  const backend = await startBackend(ctx);
  const cells: Cell[] = [];
  let controlPlane: ControlPlaneRow[] | undefined;
  try {
    const scenarios = SCENARIOS.filter((s) => a.scenarios.includes(s.name));
    for (const s of scenarios) {
      log(`scenario ${s.name}: ${s.title}`);
      cells.push(...(await runScenario(ctx, a, s, backend, pc, settings)));
    }
    if (a.controlPlane) {
      if (typeof pc === 'string') log(`control plane skipped: Portico unavailable (${pc})`);
      else
        controlPlane = await measureControlPlane(
          ctx,
          pc,
          {
            counts: a.cpRoutes,
            changes: a.cpChanges,
            workers: a.cpWorkers,
            churnCycles: a.cpChurn,
            churnMaxSeconds: a.cpChurnMaxSeconds,
            churnRoutes: 1000,
            churnAt: 1000,
            churnLoadSeconds: a.cpChurnLoad,
            startupTimeoutMs: 240_000,
            changeTimeoutMs: 60_000,
          },
          log,
        );
      if (typeof pc !== 'string' && a.cpHosts.length > 0) {
        const base = { changes: a.cpChanges, workers: a.cpWorkers, churnCycles: 0, churnMaxSeconds: 0, churnRoutes: 1000, churnAt: 1000, churnLoadSeconds: 0, startupTimeoutMs: 240_000, changeTimeoutMs: 60_000 };
        const rows = await measureControlPlane(ctx, pc, { ...base, counts: a.cpHosts, ownHosts: true }, log);
        controlPlane = [...(controlPlane ?? []), ...rows];
      }
      for (const [counts, dataplane] of [[a.cpController, 'in-process'], [a.cpProvisioned, 'provisioned']] as const) {
        if (typeof pc === 'string' || counts.length === 0) continue;
        const kubeconfig = process.env.PORTICO_KUBECONFIG;
        if (!kubeconfig) log(`controller mode (${dataplane}) skipped: PORTICO_KUBECONFIG is unset (eval "$(hack/cluster.sh env)")`);
        else {
          const certs = [ctx.cert, await secondCert(runDir)];
          const rows = await measureControllerMode(ctx, pc, { counts, changes: a.cpChanges, kubeconfig, certs, startupTimeoutMs: 240_000, changeTimeoutMs: 60_000, dataplane }, log);
          controlPlane = [...(controlPlane ?? []), ...rows];
        }
      }
    }
  } finally {
    await stopProcess(backend);
  }

  const date = new Date();
  const file: ResultsFile = { date: date.toISOString(), machine: machine(), results: toRows(cells) };
  const settingsText = [
    `Tools: ${await toolVersions()}`,
    `Every proxy: ${a.workers} worker(s) (nginx worker_processes ${a.workers}, HAProxy nbthread ${a.workers}, portico run --workers ${a.workers}); backend: nginx, ${a.workers} worker(s), on 127.0.0.1`,
    `Client: wrk -t1 -c${a.connections} --latency; HTTP/2: h2load -t1 -c${a.h2Clients} -m${a.h2Streams} (p50/p99 from its per-request log)`,
    `${a.rounds} interleaved round(s) of ${a.durationSec}s per proxy (order ${a.proxies.join(', ')}), ${a.warmupSec}s warm-up each; medians; RSS = peak of the sum over the proxy's processes, sampled from /proc every 100 ms`,
    `Portico: ${typeof pc === 'string' ? `unavailable (${pc})` : `${[pc.cmd, ...pc.args].map((x) => x.replace(repoDir + '/', '')).join(' ')} run <dir> --workers ${a.workers}`}`,
    `Wall time: ${((Date.now() - started) / 1000).toFixed(0)} s; 1-min load average ${loadBefore.toFixed(1)} at start, ${os.loadavg()[0]!.toFixed(1)} at end (other work on the machine shows up as noise; CPU µs/req is the least affected figure)`,
  ];
  const md = markdown({ file, cells, scenarios: SCENARIOS.filter((s) => a.scenarios.includes(s.name)), settings: settingsText, controlPlane });
  process.stdout.write(md);

  const outDir = a.save ? join(benchDir, 'results') : runDir;
  const base = a.save ? date.toISOString().slice(0, 10) : 'last';
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${base}.md`), md);
  writeFileSync(join(outDir, `${base}.json`), JSON.stringify(file, null, 2) + '\n');
  if (controlPlane) writeFileSync(join(outDir, `${base}.control-plane.json`), JSON.stringify({ date: file.date, machine: file.machine, controlPlane }, null, 2) + '\n');
  log(`wrote ${join(outDir, base)}.{md,json}${existsSync(join(outDir, `${base}.control-plane.json`)) && controlPlane ? ' and .control-plane.json' : ''}`);
  return 0;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAllSync();
    process.exit(130);
  });
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch(async (e) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? e}\n`);
    await stopAll();
    process.exitCode = 1;
  });
