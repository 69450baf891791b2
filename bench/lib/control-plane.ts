// Control-plane figures for file mode: how long from a manifest change to the data plane
// serving it, next to 10 / 1,000 / 10,000 existing routes, and Portico's memory there.

import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import { backendService, gatewayDocs, httpRoute, prefixRoutes, toYaml } from './manifests.js';
import { startPorticoOn, type PorticoCommand } from './portico.js';
import { sampleRss, sleep, stopProcess, treeRssKiB } from './proc.js';
import { median, type ControlPlaneRow } from './report.js';
import { routePath } from './scenarios.js';

function status(agent: http.Agent, port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

/** Polls `path` until it answers 200; returns elapsed ms from `t0` or null at the deadline. */
async function pollUntil200(agent: http.Agent, port: number, path: string, t0: bigint, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await status(agent, port, path)) === 200) return Number(process.hrtime.bigint() - t0) / 1e6;
    await sleep(2);
  }
  return null;
}

export interface ControlPlaneOptions {
  counts: number[];
  changes: number;
  startupTimeoutMs: number;
  changeTimeoutMs: number;
}

export async function measureControlPlane(
  ctx: BenchContext,
  pc: PorticoCommand,
  o: ControlPlaneOptions,
  log: (line: string) => void,
): Promise<ControlPlaneRow[]> {
  const rows: ControlPlaneRow[] = [];
  const port = ctx.ports.controlPlane;
  for (const n of o.counts) {
    const row: ControlPlaneRow = { routes: n, startup_ms: null, change_ms: [], change_median_ms: null, rss_mb: null, peak_rss_mb: null };
    rows.push(row);
    const dir = join(ctx.runDir, 'control-plane', String(n));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'base.yaml'), toYaml([...gatewayDocs({ port }), ...backendService('backend-a', ctx.ports.backendA)]));
    writeFileSync(join(dir, 'routes.yaml'), toYaml(prefixRoutes(n, ctx.ports.backendA)));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const t0 = process.hrtime.bigint();
    let proc;
    try {
      proc = await startPorticoOn(ctx, pc, dir, port, `portico-cp-${n}`, o.startupTimeoutMs);
    } catch (e) {
      row.note = (e as Error).message;
      log(`control plane ${n} routes: ${row.note}`);
      continue;
    }
    const rss = sampleRss(proc.pid, 100);
    try {
      const left = o.startupTimeoutMs - Number(process.hrtime.bigint() - t0) / 1e6;
      row.startup_ms = await pollUntil200(agent, port, `${routePath(n - 1)}/x`, t0, Math.max(left, 1000));
      if (row.startup_ms === null) {
        row.note = `last of ${n} routes not served within ${o.startupTimeoutMs} ms`;
        continue;
      }
      // Let the start-up garbage settle before the first change, as a long-running process would.
      await sleep(500);
      for (let k = 1; k <= o.changes; k++) {
        const path = `/added-${n}-${k}`;
        const doc = httpRoute(`added-${k}`, {
          rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: 'backend-a', port: ctx.ports.backendA }] }],
        });
        // Written beside the watched directory and renamed in, so the watcher never sees half a file.
        const tmp = join(dir, '..', `.added-${n}-${k}.yaml`);
        writeFileSync(tmp, toYaml([doc]));
        const t = process.hrtime.bigint();
        renameSync(tmp, join(dir, `added-${k}.yaml`));
        const ms = await pollUntil200(agent, port, path, t, o.changeTimeoutMs);
        if (ms === null) {
          row.note = `change ${k} not served within ${o.changeTimeoutMs} ms`;
          break;
        }
        row.change_ms.push(ms);
        await sleep(300);
      }
      row.change_median_ms = row.change_ms.length ? median(row.change_ms) : null;
      row.rss_mb = treeRssKiB(proc.pid) / 1024;
    } finally {
      row.peak_rss_mb = rss.stop();
      agent.destroy();
      await stopProcess(proc);
    }
    log(
      `control plane ${n} routes: start ${row.startup_ms?.toFixed(0)} ms, change ${row.change_ms.map((x) => x.toFixed(0)).join('/')} ms, RSS ${row.rss_mb?.toFixed(1)} MiB`,
    );
  }
  return rows;
}
