#!/usr/bin/env node
// Puts real processes behind the pods of the local cluster's kwok nodes.
//
// kwok only pretends: it schedules nothing and runs nothing, it just gives each pod an IP from
// its node's podCIDR and marks it Ready. This watches pods, adds each pod IP to the lo of the
// network namespace given by --netns (hack/cluster.sh routes the pod range there), and for every
// container of a pod with an IP runs the conformance echo server in that namespace, bound to
// that IP, with the container's environment (values, fieldRefs, secret and configMap refs) and
// its secret/configMap volumes written to a folder (env values naming a mount path are rewritten
// to that folder). A process that exits is restarted while its pod lives; when the pod is
// deleted, its processes are stopped.
//
//   node hack/podrunner.mjs --kubeconfig FILE --echo BIN/echo-basic --state DIR --netns NAME
//
// Every image is served by echo-basic (the conformance suite's backends all use it, and there is
// no container runtime to run anything else), except Portico's provisioned data planes: a
// container of a portico image whose args start with `dataplane` runs `node bin/portico.js
// dataplane ...` from this checkout (--portico), as a real process. Pods share one network
// namespace here, so its args get the pod IP where they say 0.0.0.0 (the health listener) and
// `--bind-address=<pod IP>` (its listeners); mount paths in args (--credentials) point at the
// folder holding the materialised Secret volume. A CoreDNS container (the UDPRoute tests'
// backend) runs hack/coredns-lite.mjs with its args (the Corefile path mapped to its volume).
//
// The kubelet's part around those processes (readiness probes written to the pod's Ready
// condition, preStop sleep, SIGTERM and terminationGracePeriodSeconds, a reused pod IP waiting
// for its previous pod's processes) is in pod-lifecycle.mjs.
//
// --label-selector serves only matching pods (a second podrunner next to an older one, as
// test/k8s/provisioned.test.ts starts when the cluster's podrunner predates data planes).
// <state>/podrunner.json names this process and what it runs (features), for such callers.

import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync, renameSync, rmSync, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { probedContainers, Readiness, terminate } from './pod-lifecycle.mjs';

const { values: args } = parseArgs({
  options: {
    kubeconfig: { type: 'string' },
    echo: { type: 'string' },
    state: { type: 'string' },
    netns: { type: 'string' },
    portico: { type: 'string' },
    'label-selector': { type: 'string' },
    // Where a deleted pod's container log files go instead of away (the newest KEPT_PODS pods; never its volumes), so a test
    // that failed can be read after its pods are gone (hack/cluster.sh keeps them until the next up).
    'keep-logs': { type: 'string' },
  },
});
const porticoBin = args.portico ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'portico.js');
if (!args.kubeconfig || !args.echo || !args.state || !args.netns) {
  console.error('usage: podrunner.mjs --kubeconfig FILE --echo BINARY --state DIR --netns NAME');
  process.exit(2);
}

const kc = new k8s.KubeConfig();
kc.loadFromFile(args.kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);

/** key `${uid}/${container}` -> { child, stopping, pod, container } */
const procs = new Map();
/** pod uid -> latest pod object, for pods that should run */
const wanted = new Map();
/** pod IP -> uids of the running pods that hold it (kwok may hand a freed IP to a new pod) */
const ipHolders = new Map();
/** pod IP -> exits of terminating processes still on it: a new pod's processes wait for them */
const ipDraining = new Map();
/** uids of pods written NotReady while their IP's previous pod drains (Ready again once their containers run) */
const notStarted = new Set();
/** pod uid -> its processes' termination (a delete event after the deletionTimestamp update waits for it) */
const terminating = new Map();
const readiness = new Readiness(core, (...a) => log(...a));

function holdIp(ip, uid) {
  let holders = ipHolders.get(ip);
  if (!holders) {
    holders = new Set();
    ipHolders.set(ip, holders);
    try {
      execFileSync('ip', ['-n', args.netns, 'addr', 'add', `${ip}/32`, 'dev', 'lo'], { stdio: 'pipe' });
    } catch (err) {
      if (!String(err.stderr).includes('File exists')) log(`cannot add ${ip} to ${args.netns}: ${err.stderr || err.message}`);
    }
  }
  holders.add(uid);
}

function releaseIp(ip, uid) {
  const holders = ipHolders.get(ip);
  if (!holders) return;
  holders.delete(uid);
  if (holders.size) return;
  ipHolders.delete(ip);
  try {
    execFileSync('ip', ['-n', args.netns, 'addr', 'del', `${ip}/32`, 'dev', 'lo'], { stdio: 'pipe' });
  } catch (err) {
    log(`cannot remove ${ip} from ${args.netns}: ${err.stderr || err.message}`);
  }
}

const log = (...a) => console.log(new Date().toISOString(), ...a);

function shouldRun(pod) {
  const s = pod.status ?? {};
  return Boolean(s.podIP) && !pod.metadata?.deletionTimestamp && s.phase !== 'Succeeded' && s.phase !== 'Failed';
}

async function readKey(kind, namespace, ref) {
  const obj = kind === 'secret'
    ? await core.readNamespacedSecret({ name: ref.name, namespace })
    : await core.readNamespacedConfigMap({ name: ref.name, namespace });
  const raw = obj.data?.[ref.key];
  if (raw === undefined) return undefined;
  return kind === 'secret' ? Buffer.from(raw, 'base64').toString('utf8') : raw;
}

function fieldValue(pod, path) {
  switch (path) {
    case 'metadata.name': return pod.metadata.name;
    case 'metadata.namespace': return pod.metadata.namespace;
    case 'metadata.uid': return pod.metadata.uid;
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP': return pod.status?.podIP ?? '';
    case 'status.hostIP': return pod.status?.hostIP ?? '';
    default: {
      const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
      return m ? (pod.metadata?.[m[1]]?.[m[2]] ?? '') : '';
    }
  }
}

/** Writes the pod's secret and configMap volumes under dir; returns mountPath -> local folder. */
async function materializeVolumes(pod, container, dir) {
  const mounts = new Map();
  const ns = pod.metadata.namespace;
  for (const vm of container.volumeMounts ?? []) {
    const vol = (pod.spec.volumes ?? []).find((v) => v.name === vm.name);
    if (!vol) continue;
    const local = join(dir, 'volumes', vm.name);
    mkdirSync(local, { recursive: true });
    let data = {};
    if (vol.secret) {
      const s = await core.readNamespacedSecret({ name: vol.secret.secretName, namespace: ns });
      for (const [k, v] of Object.entries(s.data ?? {})) data[k] = Buffer.from(v, 'base64');
    } else if (vol.configMap) {
      const c = await core.readNamespacedConfigMap({ name: vol.configMap.name, namespace: ns });
      for (const [k, v] of Object.entries(c.data ?? {})) data[k] = Buffer.from(v);
    } else {
      continue;
    }
    const items = vol.secret?.items ?? vol.configMap?.items;
    if (items) {
      for (const it of items) if (data[it.key] !== undefined) writeFileSync(join(local, it.path), data[it.key]);
    } else {
      for (const [k, v] of Object.entries(data)) writeFileSync(join(local, k), v);
    }
    mounts.set(vm.mountPath.replace(/\/+$/, ''), local);
  }
  return mounts;
}

async function containerEnv(pod, container, mounts) {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const e of container.env ?? []) {
    let v = e.value ?? '';
    const from = e.valueFrom;
    if (from?.fieldRef) v = fieldValue(pod, from.fieldRef.fieldPath);
    else if (from?.secretKeyRef) v = (await readKey('secret', pod.metadata.namespace, from.secretKeyRef)) ?? '';
    else if (from?.configMapKeyRef) v = (await readKey('configMap', pod.metadata.namespace, from.configMapKeyRef)) ?? '';
    for (const [mountPath, local] of mounts) {
      if (v === mountPath || v.startsWith(mountPath + '/')) v = local + v.slice(mountPath.length);
    }
    env[e.name] = v;
  }
  // The patched echo-basic binds every listener to POD_IP: pods share this machine's ports.
  env.POD_IP = pod.status.podIP;
  return env;
}

/** Copies a stream into the CRI log format (`<RFC3339Nano> <stream> F <line>`), which kwok's
 * kubelet API reads back for `kubectl logs` and the suite's log checks. */
function criLog(stream, name, out) {
  createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
    out.write(`${new Date().toISOString()} ${name} F ${line}\n`);
  });
}

/** Tells kwok where this pod's container logs are (a kwok.x-k8s.io Logs object, owned by the pod). */
async function publishLogs(pod, dir) {
  const body = {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Logs',
    metadata: {
      name: pod.metadata.name,
      namespace: pod.metadata.namespace,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid }],
    },
    spec: {
      logs: (pod.spec?.containers ?? []).map((c) => ({
        containers: [c.name],
        logsFile: join(dir, `${c.name}.log`),
        follow: true,
      })),
    },
  };
  const ref = { group: 'kwok.x-k8s.io', version: 'v1alpha1', namespace: pod.metadata.namespace, plural: 'logs' };
  try {
    await custom.createNamespacedCustomObject({ ...ref, body });
  } catch (err) {
    if (err?.code !== 409) throw err;
    // A pod of the same name from before (a StatefulSet, or a re-created test pod): point it here.
    await custom.deleteNamespacedCustomObject({ ...ref, name: pod.metadata.name });
    await custom.createNamespacedCustomObject({ ...ref, body });
  }
}

/** A provisioned Portico data plane (src/provision/deployment.ts): run it, not echo-basic. */
function isDataplane(container) {
  return /portico/.test(container.image ?? '') && container.args?.[0] === 'dataplane';
}

/**
 * node bin/portico.js dataplane ..., its args adjusted to a shared network namespace and local
 * mounts. Node's flags are the image's ENTRYPOINT's (Dockerfile), so a pod here holds the memory
 * one in a cluster would.
 */
function dataplaneCommand(container, mounts, podIP) {
  const out = ['--max-semi-space-size=16', porticoBin];
  for (let a of container.args ?? []) {
    for (const [mountPath, local] of mounts) {
      if (a === mountPath || a.startsWith(mountPath + '/')) a = local + a.slice(mountPath.length);
      else if (a.includes('=' + mountPath)) a = a.replace(new RegExp(`=${mountPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$)`), '=' + local);
    }
    out.push(a.replace(/(^|=)0\.0\.0\.0:/, `$1${podIP}:`));
  }
  out.push(`--bind-address=${podIP}`);
  return [process.execPath, out];
}

/** The suite's UDP backend (registry.k8s.io/coredns/coredns): hack/coredns-lite.mjs serves its Corefile. */
function isCoreDNS(container) {
  return /(^|\/)coredns(:|@|$)/.test(container.image ?? '');
}

function coreDNSCommand(container, mounts) {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'coredns-lite.mjs');
  const local = (a) => {
    for (const [mountPath, dir] of mounts) if (a === mountPath || a.startsWith(mountPath + '/')) return dir + a.slice(mountPath.length);
    return a;
  };
  return [process.execPath, [script, ...(container.args ?? []).map(local)]];
}

/** A pod held NotReady (notStarted) whose containers all run now: Ready, unless a probe decides. */
function markStarted(uid) {
  if (!notStarted.has(uid)) return;
  const pod = wanted.get(uid);
  if (!pod) return notStarted.delete(uid);
  const running = (pod.spec?.containers ?? []).every((c) => procs.get(`${uid}/${c.name}`)?.child);
  if (!running) return;
  notStarted.delete(uid);
  if (probedContainers(pod).length === 0) void readiness.started(pod, true);
}

async function startContainer(pod, container) {
  const key = `${pod.metadata.uid}/${container.name}`;
  if (procs.has(key)) return;
  const entry = { child: null, stopping: false, restarts: 0, pod, container };
  procs.set(key, entry);
  const dir = join(args.state, `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
  mkdirSync(dir, { recursive: true });
  let env;
  let command = [args.echo, []];
  try {
    const mounts = await materializeVolumes(pod, container, dir);
    env = await containerEnv(pod, container, mounts);
    if (isDataplane(container)) command = dataplaneCommand(container, mounts, pod.status.podIP);
    else if (isCoreDNS(container)) command = coreDNSCommand(container, mounts);
    if (container === pod.spec.containers[0]) {
      await publishLogs(pod, dir).catch((err) => log(`${key}: cannot publish logs: ${err?.body?.message ?? err?.message ?? err}`));
    }
  } catch (err) {
    // A secret may not exist yet (the suite creates some after the Deployments): try again soon.
    log(`${key}: cannot prepare environment: ${err?.message ?? err}; retrying`);
    procs.delete(key);
    setTimeout(() => { const p = wanted.get(pod.metadata.uid); if (p) reconcile(p); }, 2000).unref();
    return;
  }
  await Promise.all(ipDraining.get(pod.status.podIP) ?? []);
  const run = () => {
    if (entry.stopping) return;
    const out = createWriteStream(join(dir, `${container.name}.log`), { flags: 'a' });
    out.on('error', (err) => log(`${key}: log file: ${err.message}`));
    // `ip netns exec` execs the server in place, so child.pid is the server itself.
    const child = spawn('ip', ['netns', 'exec', args.netns, command[0], ...command[1]], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    criLog(child.stdout, 'stdout', out);
    criLog(child.stderr, 'stderr', out);
    child.on('close', () => out.end());
    entry.child = child;
    log(`${pod.metadata.namespace}/${pod.metadata.name} ${container.name}: started pid ${child.pid} on ${env.POD_IP}`);
    markStarted(pod.metadata.uid);
    child.on('error', (err) => log(`${key}: spawn failed: ${err.message}`));
    child.on('exit', (code, signal) => {
      entry.child = null;
      if (entry.stopping) return;
      entry.restarts++;
      log(`${key}: exited (${code ?? signal}); restart ${entry.restarts}`);
      setTimeout(run, Math.min(5000, 200 * entry.restarts)).unref();
    });
  };
  run();
}

/** Stops the pod's processes (preStop, SIGTERM, grace period; `now`: at once); resolves when they have exited. */
function stopPod(uid, now = false) {
  if (terminating.has(uid) && !wanted.has(uid)) return terminating.get(uid);
  const ip = wanted.get(uid)?.status?.podIP;
  wanted.delete(uid);
  readiness.forget(uid);
  notStarted.delete(uid);
  const exits = [];
  for (const [key, entry] of procs) {
    if (!key.startsWith(uid + '/')) continue;
    entry.stopping = true;
    procs.delete(key);
    exits.push(terminate(entry.child, entry.pod, entry.container, { now, log }).catch((err) => log(`${key}: ${err?.message ?? err}`)));
  }
  const all = Promise.all(exits);
  terminating.set(uid, all);
  void all.then(() => { if (terminating.get(uid) === all) terminating.delete(uid); });
  if (ip && exits.length) {
    const set = ipDraining.get(ip) ?? new Set();
    ipDraining.set(ip, set.add(all));
    void all.then(() => {
      set.delete(all);
      if (!set.size) ipDraining.delete(ip);
      releaseIp(ip, uid);
    });
  } else if (ip) {
    releaseIp(ip, uid);
  }
  return all;
}

function reconcile(pod) {
  const uid = pod.metadata?.uid;
  if (!uid) return;
  if (!shouldRun(pod)) {
    if (wanted.has(uid)) log(`${pod.metadata.namespace}/${pod.metadata.name}: stopping`);
    stopPod(uid);
    return;
  }
  const before = wanted.get(uid)?.status?.podIP;
  if (before && before !== pod.status.podIP) stopPod(uid);
  wanted.set(uid, pod);
  holdIp(pod.status.podIP, uid);
  for (const c of pod.spec?.containers ?? []) {
    startContainer(pod, c).catch((err) => log(`${uid}/${c.name}: ${err?.message ?? err}`));
  }
  // Like the kubelet, probe only once the containers can have started: while the IP's previous pod
  // drains (startContainer waits for it), a probe at the IP reaches that pod's process, which can
  // answer 200 during its preStop, and a Ready pod would get traffic its process cannot take yet.
  // kwok made the pod Ready when it gave it the IP: until the containers start it is NotReady, as
  // a kubelet says, or its EndpointSlice sends clients to the draining process (a conformance test
  // once saw every connection to one of its backends refused for 4 s: nothing on the port yet).
  const draining = ipDraining.get(pod.status.podIP);
  if (draining?.size) {
    if (!notStarted.has(uid)) {
      notStarted.add(uid);
      void readiness.started(pod, false);
    }
    void Promise.all(draining).then(() => { const p = wanted.get(uid); if (p) readiness.track(p); });
  } else readiness.track(pod);
}

const KEPT_PODS = 1000;
const kept = [];

function forget(pod) {
  const uid = pod.metadata?.uid;
  if (!uid) return;
  const name = `${pod.metadata.namespace}_${pod.metadata.name}_${uid}`;
  void stopPod(uid).then(() => {
    const dir = join(args.state, name);
    if (args['keep-logs']) {
      // Only the containers' log files: the pod's volumes hold its Secrets (a data plane's sync
      // credentials, TLS keys), which must not outlive it.
      try {
        const logs = readdirSync(dir).filter((f) => f.endsWith('.log'));
        const to = join(args['keep-logs'], name);
        mkdirSync(to, { recursive: true });
        for (const f of logs) renameSync(join(dir, f), join(to, f));
        kept.push(name);
        while (kept.length > KEPT_PODS) rmSync(join(args['keep-logs'], kept.shift()), { recursive: true, force: true });
      } catch (err) {
        if (err?.code !== 'ENOENT') log(`${name}: cannot keep its logs: ${err?.message ?? err}`);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
}

const selector = args['label-selector'];
const informer = k8s.makeInformer(
  kc,
  '/api/v1/pods',
  () => core.listPodForAllNamespaces(selector ? { labelSelector: selector } : {}),
  selector,
);
informer.on('add', reconcile);
informer.on('update', reconcile);
informer.on('delete', forget);
informer.on('error', (err) => {
  // The API server restarts or drops watches: list and watch again, a little later.
  log(`watch error: ${err?.message ?? err}; restarting the informer in 1s`);
  setTimeout(() => informer.start().catch((e) => log(`informer restart failed: ${e?.message ?? e}`)), 1000);
});

function shutdown() {
  log('shutting down');
  void Promise.all([...wanted.keys()].map((uid) => stopPod(uid, true))).then(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

mkdirSync(args.state, { recursive: true });
writeFileSync(join(args.state, 'podrunner.json'), JSON.stringify({ pid: process.pid, features: ['portico-dataplane', 'coredns', 'pod-lifecycle'], labelSelector: selector ?? null }) + '\n');
await informer.start();
log('watching pods');
