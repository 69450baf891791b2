// V8's young generation grows up to 64 MB per semi-space (128 MB committed) under an allocation
// burst, and keeps it: decoding a 10,000-route IR did that in every worker, and loading the
// manifests did it in the primary, ~110 MB of RSS each that an idle process never gave back
// (measured with v8.getHeapSpaceStatistics: new_space 128 MB committed, ~0 used). 16 MB was
// V8's own ceiling for years; start-up at 10,000 routes and the request path do not get slower
// with it (bench/results/2026-12-01-control-plane.md). A flag set by the user wins. The primary
// gets the flag from its command line: bin/portico.js's shebang, the image's ENTRYPOINT
// (Dockerfile, hack/image.sh) and the bench's launcher (bench/lib/portico.ts) all pass it.

export const SEMI_SPACE_FLAG = '--max-semi-space-size=16';

/** `execArgv` for a worker process: the caller's, plus the semi-space bound unless one is set there or in NODE_OPTIONS. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const set = (s: string) => /--max-semi-space-size\b|--max_semi_space_size\b/.test(s);
  return execArgv.some(set) || set(nodeOptions) ? [...execArgv] : [...execArgv, SEMI_SPACE_FLAG];
}
