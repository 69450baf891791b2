#!/usr/bin/env node
// A LoadBalancer "cloud" for the local cluster, the part that cloud-provider-kind or MetalLB's
// controller plays elsewhere: it watches Services of type LoadBalancer and writes an address
// from a local range into status.loadBalancer.ingress. kube-proxy (started by hack/cluster.sh)
// then routes that address like the ClusterIP, from this machine and from the pods' namespace.
//
//   node hack/lb-allocator.mjs --kubeconfig FILE --range 10.250.0.0/24 [--class NAME]
//
// - Serves Services whose spec.loadBalancerClass is unset (or equal to --class when given).
// - spec.loadBalancerIP, when set, is honoured if it lies in the range and no other Service holds
//   it; otherwise the Service gets no address and a Warning event says why (AddressNotUsable).
// - Otherwise the lowest free address of the range (not its network or broadcast address).
// - An address is freed when its Service is deleted, stops being a LoadBalancer or changes class;
//   Services waiting for an address are then served again.
// - Keeps no state of its own: on start it reads back the addresses already in Service statuses,
//   so a restart never hands an address to a second Service.

import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';

const { values: args } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    range: { type: 'string' },
    class: { type: 'string' },
  },
});
if (!args.kubeconfig || !args.range) {
  console.error('usage: lb-allocator.mjs --kubeconfig FILE --range A.B.C.D/N [--class NAME]');
  process.exit(2);
}

const log = (...a) => console.log(new Date().toISOString(), ...a);

// --- the range ------------------------------------------------------------------------------
function ipToInt(ip) {
  const p = ip.split('.');
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) return undefined;
  return p.reduce((a, x) => a * 256 + Number(x), 0);
}
const intToIp = (n) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(args.range);
const base = m && ipToInt(m[1]);
const bits = m && Number(m[2]);
if (base === undefined || base === null || !(bits >= 8 && bits <= 30)) {
  console.error(`--range must be an IPv4 CIDR between /8 and /30, not ${args.range}`);
  process.exit(2);
}
const size = 2 ** (32 - bits);
const network = base - (base % size);
const first = network + 1; // no network address
const last = network + size - 2; // no broadcast address
const inRange = (ip) => {
  const n = ipToInt(ip ?? '');
  return n !== undefined && n >= first && n <= last;
};

// --- state ----------------------------------------------------------------------------------
const kc = new k8s.KubeConfig();
kc.loadFromFile(args.kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** ip -> uid of the Service holding it */
const holders = new Map();
/** uid -> ip */
const held = new Map();
/** uid -> latest Service object, for every Service this allocator serves */
const served = new Map();
/** uid -> the last warning sent, so that a Service that keeps waiting is told once */
const warned = new Map();

const key = (svc) => `${svc.metadata.namespace}/${svc.metadata.name}`;
const ours = (svc) =>
  svc.spec?.type === 'LoadBalancer' && (svc.spec.loadBalancerClass ?? undefined) === (args.class ?? undefined);
const statusIps = (svc) => (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter(Boolean);

function hold(ip, uid) {
  const prev = held.get(uid);
  if (prev === ip) return;
  if (prev) free(uid);
  holders.set(ip, uid);
  held.set(uid, ip);
}

function free(uid) {
  const ip = held.get(uid);
  if (!ip) return;
  held.delete(uid);
  if (holders.get(ip) === uid) holders.delete(ip);
  log(`freed ${ip}`);
  // Someone may have been waiting for that address, or for any address.
  for (const [u, svc] of served) if (!held.has(u) && u !== uid) queue(svc);
}

function nextFree() {
  for (let n = first; n <= last; n++) if (!holders.has(intToIp(n))) return intToIp(n);
  return undefined;
}

async function writeStatus(svc, ips) {
  const ingress = ips.map((ip) => ({ ip, ipMode: 'VIP' }));
  await core.patchNamespacedServiceStatus(
    { name: svc.metadata.name, namespace: svc.metadata.namespace, body: { status: { loadBalancer: { ingress } } } },
    mergePatch,
  );
}

async function warn(svc, reason, message) {
  const uid = svc.metadata.uid;
  if (warned.get(uid) === message) return;
  warned.set(uid, message);
  log(`${key(svc)}: ${message}`);
  const now = new Date();
  await core
    .createNamespacedEvent({
      namespace: svc.metadata.namespace,
      body: {
        metadata: { generateName: `${svc.metadata.name}.`, namespace: svc.metadata.namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, namespace: svc.metadata.namespace, uid },
        reason,
        message,
        type: 'Warning',
        source: { component: 'portico-lb-allocator' },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    })
    .catch((err) => log(`${key(svc)}: cannot record event: ${err?.body?.message ?? err?.message ?? err}`));
}

/** Brings one Service's status in line with what it should hold. */
async function reconcile(svc) {
  const uid = svc.metadata.uid;
  const current = statusIps(svc);
  if (!ours(svc) || svc.metadata.deletionTimestamp) {
    const had = held.get(uid);
    served.delete(uid);
    warned.delete(uid);
    free(uid);
    // No longer a LoadBalancer of ours: take back the address we wrote, if it is still there.
    if (had && current.includes(had) && svc.spec?.type !== 'LoadBalancer' && !svc.metadata.deletionTimestamp) {
      await writeStatus(svc, []);
      log(`${key(svc)}: no longer a LoadBalancer, cleared ${had}`);
    }
    return;
  }
  served.set(uid, svc);
  const wanted = svc.spec.loadBalancerIP || undefined;
  let ip;
  if (wanted) {
    if (!inRange(wanted)) {
      free(uid);
      if (current.length) await writeStatus(svc, []);
      await warn(svc, 'AddressNotUsable', `spec.loadBalancerIP ${wanted} is outside ${args.range}, the range this allocator serves`);
      return;
    }
    const owner = holders.get(wanted);
    if (owner && owner !== uid) {
      free(uid);
      if (current.length) await writeStatus(svc, []);
      await warn(svc, 'AddressNotAssigned', `spec.loadBalancerIP ${wanted} is held by Service ${key(served.get(owner) ?? { metadata: { namespace: '?', name: owner } })}`);
      return;
    }
    ip = wanted;
  } else {
    ip = held.get(uid);
    if (!ip) {
      // An address already in the status (written before a restart) is kept when still free.
      ip = current.find((a) => inRange(a) && (!holders.has(a) || holders.get(a) === uid)) ?? nextFree();
    }
    if (!ip) {
      await warn(svc, 'AllocationFailed', `no free address left in ${args.range}`);
      return;
    }
  }
  hold(ip, uid);
  warned.delete(uid);
  if (current.length === 1 && current[0] === ip && svc.status.loadBalancer.ingress[0].ipMode === 'VIP') return;
  await writeStatus(svc, [ip]);
  log(`${key(svc)}: assigned ${ip}`);
}

// One reconcile at a time, in order: allocation decisions never race each other.
let chain = Promise.resolve();
function queue(svc) {
  chain = chain.then(() =>
    reconcile(svc).catch((err) => {
      const status = err?.code ?? err?.statusCode;
      if (status === 404) return; // deleted meanwhile: its delete event frees the address
      log(`${key(svc)}: ${err?.body?.message ?? err?.message ?? err}; retrying in 1s`);
      setTimeout(() => {
        const latest = served.get(svc.metadata.uid) ?? svc;
        queue(latest);
      }, 1000).unref();
    }),
  );
}

function forget(svc) {
  const uid = svc.metadata?.uid;
  if (!uid) return;
  chain = chain.then(() => {
    served.delete(uid);
    warned.delete(uid);
    free(uid);
  });
}

// Addresses already written (before a restart of this process) are held before anything new is
// handed out, whatever order the informer lists the Services in.
const initial = await core.listServiceForAllNamespaces();
for (const svc of initial.items) {
  if (!ours(svc) || (svc.spec.loadBalancerIP && !inRange(svc.spec.loadBalancerIP))) continue;
  for (const ip of statusIps(svc)) {
    if (inRange(ip) && !holders.has(ip) && (!svc.spec.loadBalancerIP || svc.spec.loadBalancerIP === ip)) {
      hold(ip, svc.metadata.uid);
      break;
    }
  }
}
log(`serving ${args.range} (${intToIp(first)}-${intToIp(last)}) for LoadBalancer Services with ${args.class ? `loadBalancerClass ${args.class}` : 'no loadBalancerClass'}; ${held.size} address(es) already in use`);

const informer = k8s.makeInformer(kc, '/api/v1/services', () => core.listServiceForAllNamespaces());
informer.on('add', queue);
informer.on('update', queue);
informer.on('delete', forget);
informer.on('error', (err) => {
  log(`watch error: ${err?.message ?? err}; restarting the informer in 1s`);
  setTimeout(() => informer.start().catch((e) => log(`informer restart failed: ${e?.message ?? e}`)), 1000);
});

const shutdown = () => {
  log('shutting down');
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

await informer.start();
log('watching services');
