// V8's young generation grows up to 64 MB per semi-space (128 MB committed) under an allocation
// burst, and keeps it: decoding a 10,000-route IR did that in every worker, and loading the
// manifests did it in the primary, ~110 MB of RSS each that an idle process never gave back
// (measured with v8.getHeapSpaceStatistics: new_space 128 MB committed, ~0 used). 16 MB was
// V8's own ceiling for years; start-up at 10,000 routes and the request path do not get slower
// with it (bench/results/2026-12-01-control-plane.md). A flag set by the user wins. The primary
// gets the flag from its command line: bin/portico.js's shebang, the image's ENTRYPOINT
// (Dockerfile, hack/image.sh) and the bench's launcher (bench/lib/portico.ts) all pass it.

import cluster from 'node:cluster';
import v8 from 'node:v8';
import vm from 'node:vm';

export const SEMI_SPACE_FLAG = '--max-semi-space-size=16';

/** `execArgv` for a worker process: the caller's, plus the semi-space bound unless one is set there or in NODE_OPTIONS. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const set = (s: string) => /--max-semi-space-size\b|--max_semi_space_size\b/.test(s);
  return execArgv.some(set) || set(nodeOptions) ? [...execArgv] : [...execArgv, SEMI_SPACE_FLAG];
}

// glibc's malloc, set where each process is exec'd (glibc reads its environment once, at start):
// workers (cluster-engine.ts), the image's ENV for the controller and data-plane pods (Dockerfile,
// hack/image.sh), the bench's launcher, and bin/portico.js, which execs itself once with them for
// the long-running commands when they are missing. A value set by the user wins.
//
// - MALLOC_ARENA_MAX=1. glibc gives each thread that contends for malloc an arena of its own (up
//   to 8 per core: V8's GC and compiler threads, libuv's pool) and keeps what was freed into them
//   resident. After 300 add/delete cycles of 1,000 routes the three processes held ~45 MiB more
//   than before (+20%), nearly all of it in those arenas, with the V8 heaps back where they
//   started. With one arena the same run grew 10% and started 9 MiB smaller.
// - MALLOC_MMAP_THRESHOLD_=131072. A block this large or larger is its own mapping, unmapped when
//   freed. By default glibc raises that bound to the size of each such block freed (up to 32 MB),
//   so after the primary sent a 10,000-route IR to its workers (a ~10 MB IPC write each) every
//   later block under that size came from the heap, and the heap never shrank past the ones still
//   live: the primary's heap stayed at 40 MB, 13 MB with the bound fixed (RSS 168 -> 142 MiB;
//   bench/results/2026-12-02-malloc.md). A fixed bound also keeps glibc's trim threshold at 128 KiB.
export const MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '131072' };

/** The malloc settings `env` lacks (none when the user set each). */
export function mallocEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(Object.entries(MALLOC_ENV).filter(([k]) => env[k] === undefined));
}

// Freed pages are a second matter. After a burst of configuration work (loading manifests,
// translating, decoding an IR) V8 in Node 24 keeps the 256 KiB pages it freed resident: a
// process whose heap is 26 MB live and 60 MB committed held ~600 such pages (~150 MiB RSS) after
// 20 add/delete cycles of 1,000 routes, and neither regular full GCs nor the memory reducer
// gave them back. Only a last-resort GC (CollectAllAvailableGarbage) does: RSS 207 -> 63 MiB in
// a plain script that allocated and dropped 3 million small objects. So once configuration work
// has been quiet for a moment, each process runs one.

type LastResortGc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let gcFn: LastResortGc | null | undefined;

/** V8's gc() without --expose-gc on the command line: the flag is on only while a fresh context is made. */
export function lastResortGc(): LastResortGc | null {
  if (gcFn !== undefined) return gcFn;
  const exposed = process.execArgv.includes('--expose-gc') || process.execArgv.includes('--expose_gc');
  try {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as LastResortGc;
  } catch {
    gcFn = null;
  } finally {
    if (!exposed) v8.setFlagsFromString('--no-expose-gc');
  }
  return typeof gcFn === 'function' ? gcFn : (gcFn = null);
}

/**
 * Quiet time after the last configuration applied before the GC runs. Longer than the sources'
 * longest batching delay (1 s: `maxDelayMs` of store/debounce.ts in sources/files.ts and
 * controller/loop.ts): under a steady stream of changes rebuilds come ~1 s apart, and with 1 s
 * here the GC ran between them, every few seconds of churn. With one process that is ~50 ms in
 * the thread that serves: a wrk p99 of 2.6 ms went to 18 ms while routes changed 10 times a second.
 */
export const RELEASE_QUIET_MS = 2000;
/**
 * RSS a process may have gained since its last release before another is worth the pause. One
 * route change at 10,000 routes grows a process by far less; a burst (start-up, a churn of
 * 1,000 routes, a Gateway rebuilt) by far more. A process keeps at most this much it could give back.
 */
export const RELEASE_MIN_GROWTH = 8 * 1024 * 1024;
let timer: NodeJS.Timeout | undefined;
/** RSS right after the last release (undefined: none yet, so the first always runs). */
let releasedAt: number | undefined;

/**
 * Called after each configuration applied: once none followed for `quietMs`, one last-resort
 * GC returns the freed pages, if the process grew by `minGrowth` since the last one. Under a
 * steady stream of changes it waits for the stream to stop. The GC stops the process for a moment
 * (at 10,000 routes: a worker ~50 ms on a quiet 2-vCPU machine, ~250 ms on a loaded one; the
 * primary up to ~430 ms), which every request in flight on that worker waits out: after a single
 * small change it is skipped. Workers wait 500 ms more per worker id, so they do not all stop at
 * once while they serve traffic.
 */
export function releaseMemoryWhenQuiet(o: ReleaseOptions = {}): void {
  const { quietMs = RELEASE_QUIET_MS + (cluster.worker?.id ?? 0) * 500, minGrowth = RELEASE_MIN_GROWTH, rss = process.memoryUsage.rss, gc = lastResortGc } = o;
  clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    if (releasedAt !== undefined && rss() - releasedAt < minGrowth) return;
    const collect = gc();
    if (!collect) return;
    collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    releasedAt = rss();
  }, quietMs);
  timer.unref();
}

/** Defaults for the process; the tests set their own. */
export interface ReleaseOptions {
  quietMs?: number;
  minGrowth?: number;
  rss?: () => number;
  gc?: () => LastResortGc | null;
}
