// Processes the harness starts: spawn, wait until a port accepts, sample RSS of the whole
// process tree from /proc, and stop by pid. Every child is tracked so an aborted run
// (Ctrl-C, exception) leaves nothing listening behind.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, openSync, closeSync } from 'node:fs';
import net from 'node:net';

export interface Managed {
  name: string;
  pid: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Set once the process has exited (with its code, or null after a signal). */
  exitCode?: number | null;
}

const live = new Set<Managed>();
/** Short-lived tools (wrk, h2load, openssl) running right now, killed too on abort. */
const tools = new Set<ChildProcess>();

export function startProcess(
  name: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; logFile: string; env?: NodeJS.ProcessEnv },
): Managed {
  const fd = openSync(opts.logFile, 'a');
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const m: Managed = {
    name,
    pid: child.pid,
    child,
    exited: new Promise((resolve) => {
      child.on('exit', (code) => {
        m.exitCode = code;
        live.delete(m);
        resolve(code);
      });
      child.on('error', () => {
        m.exitCode = -1;
        live.delete(m);
        resolve(-1);
      });
    }),
  };
  live.add(m);
  return m;
}

/** Children of `pid`, read from /proc/<pid>/task/<tid>/children (Linux >= 3.5). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) for (const c of text.split(/\s+/)) out.push(Number(c));
    } catch {
      // the task ended between readdir and read
    }
  }
  return out;
}

/** `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const seen: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    if (seen.includes(p)) continue;
    seen.push(p);
    queue.push(...childrenOf(p));
  }
  return seen;
}

/** Resident set size in KiB (VmRSS), 0 when the process is gone. */
export function rssKiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export function treeRssKiB(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) sum += rssKiB(p);
  return sum;
}

/**
 * Proportional set size of the tree in KiB (smaps_rollup): each page shared by k processes counts
 * 1/k. The workers are forks of one Node binary and share its ~50 MiB of resident code, which the
 * RSS sum counts once per process; this counts it once. 0 for a process that is gone.
 */
export function treePssKiB(pid: number): number {
  let sum = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /^Pss:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      if (m) sum += Number(m[1]);
    } catch {
      // exited
    }
  }
  return sum;
}

/**
 * CPU time (user + system) of the tree in seconds, from /proc/<pid>/stat. Under outside
 * load the req/s of every target drops, but the CPU a proxy spends per request barely moves.
 */
export function treeCpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after the parenthesised command; utime and stime are the 14th and 15th overall.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]);
    } catch {
      // exited
    }
  }
  return ticks / CLOCK_TICKS;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

/** Samples the tree's summed RSS every `everyMs` until stopped; returns the peak in MiB. */
export function sampleRss(pid: number, everyMs = 100): { stop(): number } {
  let peak = treeRssKiB(pid);
  const timer = setInterval(() => {
    const now = treeRssKiB(pid);
    if (now > peak) peak = now;
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const now = treeRssKiB(pid);
      if (now > peak) peak = now;
      return peak / 1024;
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True when something accepts TCP connections on host:port. */
export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(false));
  });
}

/** Waits until `port` accepts or the process exits or `timeoutMs` passes. */
export async function waitForPort(m: Managed, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (m.exitCode !== undefined) throw new Error(`${m.name} exited (code ${m.exitCode}) before listening on ${port}`);
    if (await portOpen(port)) return;
    await sleep(50);
  }
  throw new Error(`${m.name} did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * SIGTERM the process (and any descendants it leaves), SIGKILL after `graceMs`.
 * Pids are collected before signalling, so a master that dies first cannot orphan workers.
 */
export async function stopProcess(m: Managed, graceMs = 3000): Promise<void> {
  if (m.exitCode !== undefined) return;
  const tree = processTree(m.pid);
  for (const p of tree.reverse()) {
    try {
      process.kill(p, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  const timeout = sleep(graceMs).then(() => 'timeout' as const);
  if ((await Promise.race([m.exited, timeout])) === 'timeout') {
    for (const p of tree) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await m.exited;
  }
  // Workers may outlive their master by a moment; give them the same grace.
  for (const p of tree) {
    const end = Date.now() + graceMs;
    while (rssKiB(p) > 0 && Date.now() < end) await sleep(20);
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone, as expected
    }
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((m) => stopProcess(m, 1000)));
}

/** Last resort on abrupt exit: synchronous SIGKILL of every tracked tree. */
export function killAllSync(): void {
  for (const c of tools) c.kill('SIGKILL');
  for (const m of live) {
    for (const p of processTree(m.pid)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** Runs a command to completion, capturing output; rejects on spawn failure only. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    tools.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', (e) => {
      tools.delete(child);
      reject(e);
    });
    child.on('close', (code) => {
      tools.delete(child);
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
