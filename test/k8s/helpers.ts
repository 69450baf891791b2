// Helpers for tests against the real local API server (hack/cluster.sh): server-side apply,
// the upstream Gateway API CRDs from the Go module cache, polling, a TCP proxy that can
// play "the API server went away", and plain HTTP requests.

import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '../../src/sources/kubeconfig.js';
import { parseAllDocuments } from 'yaml';
import { ApiClient } from '../../src/sources/kubernetes.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The host end of the pods' veth (hack/cluster.sh): pods reach this machine here (the config stream, bench backends). */
export const HOST_SIDE = '10.244.255.1';

export function kubeConfigFrom(file: string, server?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  if (!server) return kc;
  const cluster = kc.getCurrentCluster()!;
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [{ ...cluster, server }],
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return out;
}

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

const PLURALS: Record<string, string> = {
  CustomResourceDefinition: 'customresourcedefinitions',
  Namespace: 'namespaces',
  Service: 'services',
  EndpointSlice: 'endpointslices',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  ServiceAccount: 'serviceaccounts',
  ClusterRole: 'clusterroles',
  ClusterRoleBinding: 'clusterrolebindings',
  Role: 'roles',
  RoleBinding: 'rolebindings',
  Deployment: 'deployments',
  Lease: 'leases',
  GatewayClass: 'gatewayclasses',
  Gateway: 'gateways',
  HTTPRoute: 'httproutes',
  GRPCRoute: 'grpcroutes',
  TLSRoute: 'tlsroutes',
  TCPRoute: 'tcproutes',
  UDPRoute: 'udproutes',
  BackendTLSPolicy: 'backendtlspolicies',
  ReferenceGrant: 'referencegrants',
  Pod: 'pods',
  PodDisruptionBudget: 'poddisruptionbudgets',
  HorizontalPodAutoscaler: 'horizontalpodautoscalers',
  GatewayParameters: 'gatewayparameters',
  Ingress: 'ingresses',
  IngressClass: 'ingressclasses',
};
const CLUSTER = new Set(['CustomResourceDefinition', 'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'GatewayClass', 'IngressClass']);

export function objectPath(o: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): string {
  const plural = PLURALS[o.kind];
  if (!plural) throw new Error(`test helper: no plural known for ${o.kind}`);
  const base = o.apiVersion.includes('/') ? `/apis/${o.apiVersion}` : `/api/${o.apiVersion}`;
  const ns = CLUSTER.has(o.kind) ? '' : `/namespaces/${o.metadata.namespace ?? 'default'}`;
  return `${base}${ns}/${plural}/${o.metadata.name}`;
}

/** Server-side apply (optionally as a dry run, which is how deploy/ is validated). */
export async function apply(client: ApiClient, o: Obj, dryRun = false): Promise<Obj> {
  const query: Record<string, string> = { fieldManager: 'portico-test', force: 'true' };
  if (dryRun) query.dryRun = 'All';
  return client.json<Obj>('PATCH', objectPath(o), {
    body: o,
    contentType: 'application/apply-patch+yaml',
    query,
    timeoutMs: 60000,
  });
}

export async function remove(client: ApiClient, o: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): Promise<void> {
  const res = await client.request('DELETE', objectPath(o));
  if (res.status >= 300 && res.status !== 404) throw new Error(`DELETE ${objectPath(o)}: ${res.status}`);
}

export async function getObj<T = Obj>(client: ApiClient, o: Pick<Obj, 'apiVersion' | 'kind' | 'metadata'>): Promise<T | undefined> {
  const res = await client.request('GET', objectPath(o));
  return res.status === 200 ? (res.body as T) : undefined;
}

/** Where hack/cluster.sh keeps the pinned gateway-api release's CRDs (experimental channel). */
export function gatewayApiCrdDir(): string {
  if (process.env.GATEWAY_API_CRDS) return process.env.GATEWAY_API_CRDS;
  const script = fs.readFileSync(path.join(ROOT, 'hack/cluster.sh'), 'utf8');
  const version = /GATEWAY_API_VERSION=(v[\w.-]+)/.exec(script)?.[1];
  const roots = [process.env.PORTICO_GO_CACHE && path.join(process.env.PORTICO_GO_CACHE, 'mod'), path.join(ROOT, '.cache/go/mod')];
  try {
    roots.push(execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim());
  } catch {
    /* no go: only the project cache */
  }
  for (const r of roots) {
    if (!r || !version) continue;
    const dir = path.join(r, `sigs.k8s.io/gateway-api@${version}/config/crd/experimental`);
    if (fs.existsSync(dir)) return dir;
  }
  throw new Error(`Gateway API CRDs not found: set GATEWAY_API_CRDS (hack/cluster.sh env prints it)`);
}

export async function installGatewayApiCrds(client: ApiClient): Promise<string[]> {
  const dir = gatewayApiCrdDir();
  const names: string[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8'))) {
      const o = doc.toJS() as Obj | null;
      if (!o || o.kind !== 'CustomResourceDefinition') continue;
      await apply(client, o);
      names.push(o.metadata.name);
    }
  }
  for (const name of names) {
    await waitFor(`CRD ${name} Established`, async () => {
      const crd = await getObj<{ status?: { conditions?: { type: string; status: string }[] } }>(client, {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name },
      });
      return crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || undefined;
    });
  }
  return names;
}

/** Polls `fn` until it returns something truthy; fails naming `what` and the last value seen. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

export function httpGet(
  host: string,
  port: number,
  urlPath: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: urlPath, headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${host}:${port}${urlPath} timed out`)));
    req.on('error', reject);
  });
}

/**
 * A TCP forwarder in front of the API server. `down()` cuts every connection and stops
 * listening (to the controller, the API server is gone); `up()` listens again on the same port.
 */
export class ApiServerProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: URL) {}

  async up(): Promise<string> {
    const server = net.createServer((client) => {
      const upstream = net.connect(Number(this.target.port || 443), this.target.hostname);
      this.sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return `https://127.0.0.1:${this.port}`;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/** A plain HTTP backend on loopback that names itself in every answer. */
export async function startBackend(name: string, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
    res.end(JSON.stringify({ backend: name, path: req.url, host: req.headers.host }));
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** One UDP datagram to host:port and the first datagram that comes back (the echo server's JSON). */
export function udpExchange(host: string, port: number, payload: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error(`no UDP answer from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(err);
    });
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg.toString('utf8'));
    });
    sock.send(payload, port, host);
  });
}

/**
 * A pod that hack/podrunner.mjs serves with the conformance echo server: HTTP on 3000 (the JSON
 * answer names the pod and namespace) and, with `udpPort`, a second container echoing UDP there.
 */
export function echoPod(name: string, namespace: string, labels: Record<string, string>, udpPort?: number): Obj {
  const identity = [
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
  ];
  const image = 'registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0';
  const containers: Record<string, unknown>[] = [{ name: 'http', image, env: identity, ports: [{ containerPort: 3000 }] }];
  if (udpPort) {
    containers.push({
      name: 'udp',
      image,
      env: [...identity, { name: 'UDP_ECHO_SERVER', value: '1' }, { name: 'UDP_PORT', value: String(udpPort) }],
      ports: [{ containerPort: udpPort, protocol: 'UDP' }],
    });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { terminationGracePeriodSeconds: 0, containers },
  };
}

/** The local cluster's LoadBalancer range (hack/cluster.sh LB_RANGE; `cluster.sh env` exports it). */
export function lbRange(): string {
  if (process.env.PORTICO_LB_RANGE) return process.env.PORTICO_LB_RANGE;
  const script = fs.readFileSync(path.join(ROOT, 'hack/cluster.sh'), 'utf8');
  const range = /^LB_RANGE=([\d./]+)/m.exec(script)?.[1];
  if (!range) throw new Error('no LB_RANGE in hack/cluster.sh');
  return range;
}

/** Whether an IPv4 address lies in an IPv4 CIDR. */
export function inCidr(ip: string, cidr: string): boolean {
  const toInt = (a: string) => a.split('.').reduce((n, x) => n * 256 + Number(x), 0);
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = toInt(base!) - (toInt(base!) % size);
  return net.isIPv4(ip) && toInt(ip) >= start && toInt(ip) < start + size;
}

/** Whether `conds` hold condition `type` with status True. */
export const isTrue = (conds: readonly { type: string; status: string }[] | undefined, type: string): boolean => conds?.some((c) => c.type === type && c.status === 'True') ?? false;

/** The pods of a provisioned data plane (label app.kubernetes.io/instance=`instance`) that are not being deleted. */
export async function dataplanePods(client: ApiClient, namespace: string, instance: string): Promise<{ name: string; ip?: string; ready: boolean }[]> {
  type Pod = { metadata: { name: string; deletionTimestamp?: string }; status?: { podIP?: string; conditions?: { type: string; status: string }[] } };
  const list = await client.json<{ items: Pod[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, { query: { labelSelector: `app.kubernetes.io/instance=${instance}` } });
  return list.items
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((p) => ({ name: p.metadata.name, ...(p.status?.podIP ? { ip: p.status.podIP } : {}), ready: isTrue(p.status?.conditions, 'Ready') }));
}
