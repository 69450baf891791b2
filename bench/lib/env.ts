// Tools the bench needs, installed from Debian packages when missing, and a one-line
// description of the machine for the results file.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import { run } from './proc.js';

/** Command -> Debian package that provides it. */
const TOOLS: Record<string, string> = {
  nginx: 'nginx',
  haproxy: 'haproxy',
  wrk: 'wrk',
  h2load: 'nghttp2-client',
  openssl: 'openssl',
};

async function has(cmd: string): Promise<boolean> {
  const r = await run('sh', ['-c', `command -v ${cmd}`]);
  return r.code === 0;
}

export async function ensureTools(install: boolean): Promise<void> {
  const missing: string[] = [];
  for (const cmd of Object.keys(TOOLS)) if (!(await has(cmd))) missing.push(cmd);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((c) => TOOLS[c]!))];
  if (!install) throw new Error(`missing ${missing.join(', ')}: apt-get install -y ${pkgs.join(' ')}`);
  process.stderr.write(`installing ${pkgs.join(' ')} (apt-get)...\n`);
  // Not root: go through sudo (non-interactive: needs a sudo rule without password).
  const apt = (args: string[]) =>
    process.getuid?.() === 0
      ? run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
      : run('sudo', ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', ...args]);
  const upd = await apt(['update', '-qq']);
  if (upd.code !== 0) throw new Error(`apt-get update failed: ${upd.stderr}`);
  const inst = await apt(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
  if (inst.code !== 0) throw new Error(`apt-get install ${pkgs.join(' ')} failed: ${inst.stderr}`);
  for (const cmd of missing) if (!(await has(cmd))) throw new Error(`${cmd} still missing after installing ${TOOLS[cmd]}`);
}

export function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim() ?? 'unknown CPU';
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  let distro = '';
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // not Linux-like; the kernel line is enough
  }
  return `${cpus.length} vCPU (${model}), ${gib} GiB RAM, ${distro || os.type()} kernel ${os.release()}, Node ${process.version}`;
}

export async function toolVersions(): Promise<string> {
  const first = async (cmd: string, args: string[]) => {
    const r = await run(cmd, args).catch(() => ({ stdout: '', stderr: '' }));
    return (r.stdout + r.stderr).split('\n')[0]!.trim();
  };
  const nginx = (await first('nginx', ['-v'])).replace(/^nginx version: /, '');
  const haproxy = (await first('haproxy', ['-v'])).replace(/ - https.*$/, '');
  const wrk = (await first('wrk', ['-v'])).replace(/ Copyright.*$/, '');
  const h2load = await first('h2load', ['--version']);
  return `${nginx}, ${haproxy}, ${wrk}, ${h2load}`;
}
