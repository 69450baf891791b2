// Data-plane pods on the local cluster are run by hack/podrunner.mjs. A cluster started before
// podrunner learned to run them (its <state>/podrunner.json lacks the feature) gets a second
// podrunner from this checkout, limited by a label selector to the test's own data-plane pods
// (the older one still runs an echo server for them too, on ports a data plane does not use).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from './helpers.js';

const CLUSTER_DIR = process.env.PORTICO_CLUSTER_DIR ?? path.join(ROOT, '.cache/cluster');

function clusterRunsDataPlanes(): boolean {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(CLUSTER_DIR, 'pods', 'podrunner.json'), 'utf8')) as { pid: number; features?: string[]; labelSelector?: string | null };
    if (!info.features?.includes('portico-dataplane') || info.labelSelector) return false;
    process.kill(info.pid, 0); // alive?
    return true;
  } catch {
    return false;
  }
}

export interface LocalPodRunner {
  stop(): Promise<void>;
}

/** Starts a podrunner for pods matching `labelSelector` unless the cluster's own one runs data planes. */
export function ensureDataPlaneRunner(kubeconfig: string, labelSelector: string, log: (l: string) => void): LocalPodRunner | undefined {
  if (clusterRunsDataPlanes()) return undefined;
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-podrunner-'));
  const bin = process.env.PORTICO_CLUSTER_BIN ?? path.join(CLUSTER_DIR, 'bin');
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, 'hack/podrunner.mjs'), '--kubeconfig', kubeconfig, '--echo', path.join(bin, 'echo-basic'), '--state', state, '--netns', 'portico-pods', '--label-selector', labelSelector],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines = (d: Buffer) => {
    for (const l of d.toString().split('\n')) if (l.trim()) log(`podrunner: ${l}`);
  };
  child.stdout!.on('data', lines);
  child.stderr!.on('data', lines);
  log(`started a podrunner (pid ${child.pid}) for ${labelSelector}: the cluster's one predates data planes`);
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => {
          fs.rmSync(state, { recursive: true, force: true });
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
