// Load generators and their output parsers: wrk (HTTP/1.1, --latency) and h2load (HTTP/2,
// per-request log for percentiles, since h2load itself prints only min/max/mean).

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc.js';
import type { Scenario } from './scenarios.js';

export interface LoadSettings {
  durationSec: number;
  /** HTTP/1.1 connections (wrk -c). */
  connections: number;
  /** wrk/h2load threads; 1 keeps the client on one core, the proxy and backend on the other. */
  threads: number;
  /** HTTP/2: connections and concurrent streams per connection (h2load -c, -m). */
  h2Clients: number;
  h2Streams: number;
}

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout). */
  errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1.58ms" -> 1.58, "850.00us" -> 0.85. */
export function parseDuration(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`unrecognised duration "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function parseWrk(out: string): LoadResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  const total = /^\s+(\d+) requests in/m.exec(out);
  if (!rps || !p50 || !p99 || !total) throw new Error(`unexpected wrk output:\n${out}`);
  let errors = 0;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non2xx) errors += Number(non2xx[1]);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (sock) errors += Number(sock[1]) + Number(sock[2]) + Number(sock[3]) + Number(sock[4]);
  return {
    rps: Number(rps[1]),
    p50Ms: parseDuration(p50[1]!),
    p99Ms: parseDuration(p99[1]!),
    requests: Number(total[1]),
    errors,
  };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/**
 * h2load summary for throughput and failures, its --log-file (start µs, status, duration µs
 * per request, tab-separated) for p50/p99.
 */
export function parseH2load(out: string, log: string): LoadResult {
  const rps = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out);
  const reqs = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!rps || !reqs || !codes) throw new Error(`unexpected h2load output:\n${out}`);
  const durations: number[] = [];
  for (const line of log.split('\n')) {
    const cols = line.split('\t');
    if (cols.length >= 3) durations.push(Number(cols[2]) / 1000);
  }
  durations.sort((a, b) => a - b);
  return {
    rps: Number(rps[1]),
    p50Ms: percentile(durations, 50),
    p99Ms: percentile(durations, 99),
    requests: Number(reqs[4]),
    errors: Number(reqs[5]) + Number(reqs[6]) + Number(reqs[7]) + Number(codes[3]) + Number(codes[4]),
  };
}

/** wrk Lua script for the request shape (method, body, headers); null when flags suffice. */
export function wrkScript(s: Scenario): string | null {
  if (!s.bodyBytes) return null;
  return [
    `wrk.method = "${s.method}"`,
    `wrk.body = string.rep("x", ${s.bodyBytes})`,
    'wrk.headers["Content-Type"] = "application/octet-stream"',
    '',
  ].join('\n');
}

export function wrkArgs(s: Scenario, url: string, settings: LoadSettings, durationSec: number, scriptFile?: string): string[] {
  const args = ['-t', String(settings.threads), '-c', String(settings.connections), '-d', `${durationSec}s`, '--latency', '--timeout', '5s'];
  if (scriptFile) args.push('-s', scriptFile);
  if (s.host) args.push('-H', `Host: ${s.host}`);
  if (s.connectionClose) args.push('-H', 'Connection: close');
  for (const [k, v] of Object.entries(s.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(url);
  return args;
}

export function h2loadArgs(s: Scenario, url: string, settings: LoadSettings, durationSec: number, logFile: string): string[] {
  const args = [
    '-t', String(settings.threads),
    '-c', String(settings.h2Clients),
    '-m', String(settings.h2Streams),
    '-D', String(durationSec),
    '--log-file', logFile,
  ];
  if (s.host) args.push('-H', `:authority: ${s.host}`);
  for (const [k, v] of Object.entries(s.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(url);
  return args;
}

export async function runLoad(
  s: Scenario,
  port: number,
  settings: LoadSettings,
  durationSec: number,
  workDir: string,
): Promise<LoadResult> {
  const url = `${s.tls ? 'https' : 'http'}://127.0.0.1:${port}${s.path}`;
  const limit = { timeoutMs: (durationSec + 30) * 1000 };
  if (s.tool === 'h2load') {
    const logFile = join(workDir, 'h2load.log');
    rmSync(logFile, { force: true });
    const r = await run('h2load', h2loadArgs(s, url, settings, durationSec, logFile), limit);
    if (r.code !== 0) throw new Error(`h2load exited ${r.code}: ${r.stderr || r.stdout}`);
    const result = parseH2load(r.stdout, readFileSync(logFile, 'utf8'));
    rmSync(logFile, { force: true });
    return result;
  }
  const script = wrkScript(s);
  let scriptFile: string | undefined;
  if (script) {
    scriptFile = join(workDir, `${s.name}.lua`);
    writeFileSync(scriptFile, script);
  }
  const r = await run('wrk', wrkArgs(s, url, settings, durationSec, scriptFile), limit);
  if (r.code !== 0) throw new Error(`wrk exited ${r.code}: ${r.stderr || r.stdout}`);
  return parseWrk(r.stdout);
}
