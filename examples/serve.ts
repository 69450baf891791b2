// `npm run examples`: build if needed, start the example backends, then
// `portico run examples/`, all in the foreground; Ctrl-C stops everything.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist', 'cli', 'main.js');

function newestMtime(dir: string): number {
  let max = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) max = Math.max(max, newestMtime(p));
    else if (e.name.endsWith('.ts')) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

if (!existsSync(dist) || newestMtime(join(root, 'src')) > statSync(dist).mtimeMs) {
  console.log('building (npm run build)…');
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    // A type error elsewhere still emits JavaScript; carry on if the CLI was produced.
    if (!existsSync(dist)) process.exit(r.status ?? 1);
    console.log('build reported errors; running what was emitted');
  }
}

const children: ChildProcess[] = [];
const start = (args: string[], label: string) => {
  const c = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
  c.on('exit', (code, signal) => {
    if (!stopping) console.log(`${label} exited (${signal ?? code})`);
    if (label === 'portico') shutdown(code ?? 0);
  });
  children.push(c);
  return c;
};

let stopping = false;
/** `fromTerminal`: Ctrl-C already reached every child (same process group); give them time to drain before insisting. */
function shutdown(code: number, fromTerminal = false): void {
  if (stopping) return;
  stopping = true;
  const kill = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  if (fromTerminal) setTimeout(kill, 6000).unref();
  else kill();
  const exit = () => (children.every((c) => c.exitCode !== null || c.signalCode !== null) ? process.exit(code) : setTimeout(exit, 100));
  exit();
}
process.on('SIGINT', () => shutdown(0, true));
process.on('SIGTERM', () => shutdown(0));

start(['--import', 'tsx', 'examples/backends.ts'], 'HTTP echo backends');
start(['--import', 'tsx', 'examples/l4-backends.ts'], 'gRPC/TLS/TCP/UDP backends');
// Give the backends a moment so the first requests do not meet connection refused.
setTimeout(() => start(['bin/portico.js', 'run', 'examples/', '--admin', '127.0.0.1:9901', ...process.argv.slice(2)], 'portico'), 700);
