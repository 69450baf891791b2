// Reading Prometheus text in tests: samples by name and a subset of labels.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable sample line: ${line}`);
    const labels: Record<string, string> = {};
    const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
    let l: RegExpExecArray | null;
    while ((l = re.exec(m[2] ?? ''))) labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    out.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return out;
}

/** Sum of the samples of `name` whose labels include `want`. */
export function sum(samples: Sample[], name: string, want: Record<string, string> = {}): number {
  let s = 0;
  for (const x of samples) {
    if (x.name !== name) continue;
    if (Object.entries(want).every(([k, v]) => x.labels[k] === v)) s += x.value;
  }
  return s;
}

export function families(text: string): Set<string> {
  return new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
}

/** promtool check metrics on `text`: null when promtool is missing, else its exit code and output. */
export function promtool(text: string): { code: number; output: string } | null {
  const which = spawnSync('sh', ['-c', 'command -v promtool']);
  if (which.status !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'portico-metrics-'));
  const file = join(dir, 'metrics.txt');
  writeFileSync(file, text);
  const r = spawnSync('sh', ['-c', `promtool check metrics < '${file}'`], { encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
