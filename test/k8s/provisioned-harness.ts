// The setup the provisioned-mode cluster tests share (test/k8s/provisioned-*.test.ts): Gateway
// API CRDs and the GatewayParameters CRD, a GatewayClass of a per-run controller name, a
// controller namespace, `portico controller --dataplane provisioned` started in the test
// process (config stream on the host end of the pods' veth) and a podrunner for the data planes
// when the cluster's own cannot run them. Traffic goes to the provisioned Services' addresses
// (kube-proxy routes ClusterIPs and hack/lb-allocator.mjs's LoadBalancer addresses).

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parse } from 'yaml';
import { ApiClient } from '../../src/sources/kubernetes.js';
import { runController, type RunControllerOptions, type RunningController } from '../../src/controller/index.js';
import { loadPipeline } from '../../src/cli/controller.js';
import type { TranslateFn } from '../../src/controller/loop.js';
import { resourceName } from '../../src/provision/index.js';
import { apply, dataplanePods, getObj, HOST_SIDE, httpGet, installGatewayApiCrds, isTrue, kubeConfigFrom, remove, ROOT, waitFor } from './helpers.js';
import { ensureDataPlaneRunner, type LocalPodRunner } from './podrunner.js';

export const GW = 'gateway.networking.k8s.io/v1';
export const LONG = 90_000;

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: unknown };
export type Cond = { type: string; status: string; reason: string; message?: string };
export interface ServiceObj {
  spec: { clusterIP?: string; ports: { name?: string; port: number; protocol?: string }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

export const ref = (apiVersion: string, kind: string, name: string, namespace?: string): Obj => ({ apiVersion, kind, metadata: namespace ? { name, namespace } : { name } });
export { isTrue };

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject);
    s.listen(0, host, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export interface Harness {
  client: ApiClient;
  run: string;
  className: string;
  /** The controller's namespace (master key Secret). */
  ctlNamespace: string;
  /** (Re)starts the controller; a running one is stopped first. `extra`: more controller options (ingress). */
  startController(extra?: Partial<RunControllerOptions>): Promise<RunningController>;
  stopController(): Promise<void>;
  /** The provisioned objects' name for a Gateway of this class. */
  nameOf(gateway: string): string;
  /** The Gateway's Service once it has a ClusterIP and (LoadBalancer) an ingress IP. */
  serviceAddresses(namespace: string, gateway: string, loadBalancer?: boolean): Promise<{ clusterIP: string; lb?: string }>;
  /** Every pod of the Gateway's data plane that is not being deleted: name and IP. */
  dataplanePods(namespace: string, gateway: string): Promise<{ name: string; ip?: string; ready: boolean }[]>;
  close(extraNamespaces: string[]): Promise<void>;
}

/** `runnerSelector`: the pods the local podrunner runs, from the class name (default: the Gateways of the class). */
export async function startHarness(kubeconfig: string, prefix: string, log: (l: string) => void, o: { runnerSelector?: (className: string) => string } = {}): Promise<Harness> {
  const client = new ApiClient(kubeConfigFrom(kubeconfig));
  const run = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const className = `${prefix}-${run}`;
  const controllerName = `portico.dev/${prefix}-${run}`;
  const ctlNamespace = `${prefix}-ctl-${run}`;
  const { translate }: { translate: TranslateFn } = await loadPipeline();
  await installGatewayApiCrds(client);
  const crd = parse(fs.readFileSync(path.join(ROOT, 'deploy/manifests/crd-gatewayparameters.yaml'), 'utf8')) as Obj;
  await apply(client, crd);
  await waitFor('GatewayParameters CRD Established', async () => isTrue((await getObj<{ status?: { conditions?: Cond[] } }>(client, crd))?.status?.conditions, 'Established') || undefined);
  await apply(client, ref('v1', 'Namespace', ctlNamespace));
  await apply(client, { ...ref(GW, 'GatewayClass', className), spec: { controllerName } });
  const runner: LocalPodRunner | undefined = ensureDataPlaneRunner(kubeconfig, o.runnerSelector?.(className) ?? `gateway.networking.k8s.io/gateway-class-name=${className}`, log);
  const syncPort = await freePort(HOST_SIDE);
  let controller: RunningController | undefined;

  const h: Harness = {
    client,
    run,
    className,
    ctlNamespace,
    async startController(extra = {}) {
      await h.stopController();
      const c = await runController({
        ...extra,
        kubeConfig: kubeConfigFrom(kubeconfig),
        dataplane: 'provisioned',
        provisioned: {
          namespace: ctlNamespace,
          syncListen: `${HOST_SIDE}:${syncPort}`,
          settings: { image: 'ghcr.io/portico-dev/portico:test', syncAddress: `${HOST_SIDE}:${syncPort}` },
        },
        translate,
        controllerName,
        debounceMs: 50,
        backoffMaxMs: 1000,
        rediscoverMs: 5000,
        log,
      });
      await c.started;
      controller = c;
      return c;
    },
    async stopController() {
      const c = controller;
      controller = undefined;
      await c?.stop();
    },
    nameOf: (gateway) => resourceName(gateway, className),
    async serviceAddresses(namespace, gateway, loadBalancer = true) {
      const svc = await waitFor(`Service of ${namespace}/${gateway} with its addresses`, async () => {
        const s = await getObj<ServiceObj>(client, ref('v1', 'Service', h.nameOf(gateway), namespace));
        return s?.spec.clusterIP && (!loadBalancer || s.status?.loadBalancer?.ingress?.[0]?.ip) ? s : undefined;
      }, LONG);
      return { clusterIP: svc.spec.clusterIP!, ...(loadBalancer ? { lb: svc.status!.loadBalancer!.ingress![0]!.ip! } : {}) };
    },
    dataplanePods: (namespace, gateway) => dataplanePods(client, namespace, h.nameOf(gateway)),
    async close(extraNamespaces) {
      await h.stopController();
      for (const ns of [ctlNamespace, ...extraNamespaces]) await remove(client, ref('v1', 'Namespace', ns)).catch(() => undefined);
      await remove(client, ref(GW, 'GatewayClass', className)).catch(() => undefined);
      await runner?.stop();
    },
  };
  return h;
}

/** GET until it answers 200: the data plane behind `ip:port` serves `host`. */
export async function served(ip: string, port: number, host: string, p = '/'): Promise<{ namespace?: string; pod?: string }> {
  const r = await waitFor(`http://${ip}:${port}${p} (Host ${host}) answered 200`, async () => {
    const x = await httpGet(ip, port, p, { host });
    return x.status === 200 ? x : undefined;
  }, LONG);
  return JSON.parse(r.body) as { namespace?: string; pod?: string };
}
