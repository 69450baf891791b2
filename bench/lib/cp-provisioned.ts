// What controller mode needs besides the controller when it provisions the data plane
// (`--cp-provisioned`, cp-controller.ts): the Gateway's data-plane pod, run by hack/podrunner.mjs
// from this checkout's bin/portico.js in the cluster's pod network namespace; a backend the pod
// can reach; and that pod's process, for its memory.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiClient } from '../../src/sources/kubernetes.js';
import { resourceName } from '../../src/provision/index.js';
import { dataplanePods, HOST_SIDE } from '../../test/k8s/helpers.js';
import { ensureDataPlaneRunner, type LocalPodRunner } from '../../test/k8s/podrunner.js';

/**
 * The pods run `node bin/portico.js`, which runs dist/ unless src/ is newer (then src/ through
 * tsx: slower to start, and bigger). Builds dist/ so they run what the controller runs.
 */
export function buildDist(repoDir: string, log: (l: string) => void): void {
  const t = Date.now();
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repoDir, stdio: 'ignore' });
  log(`provisioned mode: dist/ built for the data-plane pods in ${((Date.now() - t) / 1000).toFixed(1)} s`);
}

/** An HTTP backend on the host end of the pods' veth answering 200 to everything. */
export async function hostBackend(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, HOST_SIDE, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** The cluster's podrunner when it runs data planes, else one of this checkout for the class's pods. */
export function podRunner(kubeconfig: string, gatewayClass: string, log: (l: string) => void): LocalPodRunner | undefined {
  return ensureDataPlaneRunner(kubeconfig, `gateway.networking.k8s.io/gateway-class-name=${gatewayClass}`, log);
}

/** The IP of the Gateway's data-plane pod, if it has one yet. */
export async function dataplanePodIP(client: ApiClient, ns: string, gateway: string, gatewayClass: string): Promise<string | undefined> {
  return (await dataplanePods(client, ns, resourceName(gateway, gatewayClass))).find((p) => p.ip)?.ip;
}

/** The pid of the `portico dataplane` process serving `podIP` (podrunner gives it `--bind-address=<pod IP>`). */
export function dataplanePid(podIP: string): number | undefined {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (args.includes('dataplane') && args.includes(`--bind-address=${podIP}`)) return Number(d);
  }
  return undefined;
}
