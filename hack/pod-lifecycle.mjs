// What a kubelet does around a pod's processes that kwok does not, for hack/podrunner.mjs:
//
// - Readiness probes. kwok's pod-ready stage (hack/cluster.sh) leaves a pod whose containers
//   have a readinessProbe with Ready False; this probes them (httpGet, tcpSocket) at the pod IP
//   and writes the Ready and ContainersReady conditions and containerStatuses[].ready, so the
//   EndpointSlice controller, kube-proxy and Portico's endpoints see a pod only once it serves
//   (a Deployment's rolling update waits for it, as in a real cluster).
// - Termination. On deletion: the preStop `sleep` hook, then SIGTERM, then SIGKILL when
//   terminationGracePeriodSeconds (counted from the deletion, at least 2 s) runs out.
// - Pod IPs. kwok hands a deleted pod's IP to the next pod at once, while the old processes may
//   still be draining on it; a new pod's processes start only once those have exited (a real
//   pod keeps its IP until it has terminated).

import net from 'node:net';
import http from 'node:http';
import * as k8s from '@kubernetes/client-node';

/** Containers with a readinessProbe: their pod starts not Ready (cluster.sh's kwok stage). */
export function probedContainers(pod) {
  return (pod.spec?.containers ?? []).filter((c) => c.readinessProbe);
}

function probePort(container, port) {
  if (typeof port === 'number' || /^\d+$/.test(String(port))) return Number(port);
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** One probe of `container` at `ip`: true when it succeeds (HTTP 200-399, or a TCP connect). */
export function probeOnce(ip, container) {
  const p = container.readinessProbe;
  const timeoutMs = (p.timeoutSeconds ?? 1) * 1000;
  return new Promise((resolve) => {
    if (p.httpGet) {
      const port = probePort(container, p.httpGet.port);
      if (!port) return resolve(false);
      const req = http.get({ host: ip, port, path: p.httpGet.path ?? '/', agent: false, timeout: timeoutMs }, (res) => {
        res.resume();
        resolve(res.statusCode >= 200 && res.statusCode < 400);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve(false));
    } else if (p.tcpSocket) {
      const port = probePort(container, p.tcpSocket.port);
      if (!port) return resolve(false);
      const s = net.connect({ host: ip, port, timeout: timeoutMs });
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('timeout', () => { s.destroy(); resolve(false); });
      s.on('error', () => resolve(false));
    } else {
      resolve(true); // exec/grpc probes: nothing runs them here, count them as passing
    }
  });
}

/** Probes the pods' readinessProbes and writes their readiness into the pod status. */
export class Readiness {
  /** uid -> { timers, ready: Map<container, boolean>, counts, pod } */
  #pods = new Map();
  constructor(core, log) {
    this.core = core;
    this.log = log;
  }

  /** Starts probing the pod's probed containers (once per pod uid). */
  track(pod) {
    const uid = pod.metadata.uid;
    const probed = probedContainers(pod);
    if (probed.length === 0 || this.#pods.has(uid)) {
      if (this.#pods.has(uid)) this.#pods.get(uid).pod = pod;
      return;
    }
    const state = { pod, timers: [], ready: new Map(), ok: new Map(), bad: new Map(), written: undefined };
    this.#pods.set(uid, state);
    for (const c of probed) {
      state.ready.set(c.name, false);
      const p = c.readinessProbe;
      const period = (p.periodSeconds ?? 10) * 1000;
      const tick = async () => {
        if (!this.#pods.has(uid)) return;
        const ok = await probeOnce(state.pod.status.podIP, c);
        if (!this.#pods.has(uid)) return;
        const was = state.ready.get(c.name);
        if (ok) {
          state.bad.set(c.name, 0);
          state.ok.set(c.name, (state.ok.get(c.name) ?? 0) + 1);
          if (!was && state.ok.get(c.name) >= (p.successThreshold ?? 1)) state.ready.set(c.name, true);
        } else {
          state.ok.set(c.name, 0);
          state.bad.set(c.name, (state.bad.get(c.name) ?? 0) + 1);
          if (was && state.bad.get(c.name) >= (p.failureThreshold ?? 3)) state.ready.set(c.name, false);
        }
        await this.#write(uid, state, 'readiness probe');
        // While not ready, probe every 250 ms at most (the kubelet's first probe comes right
        // after the container starts; a period-long wait would only slow the cluster down).
        const next = state.ready.get(c.name) ? period : Math.min(period, 250);
        state.timers.push(setTimeout(tick, next).unref());
      };
      state.timers.push(setTimeout(tick, (p.initialDelaySeconds ?? 0) * 1000).unref());
    }
  }

  /**
   * Ready as a kubelet reports it for a pod whose containers have not started (false) or, without
   * a readiness probe, have (true). kwok makes every pod Ready when it gets its IP.
   */
  async started(pod, started) {
    const ready = new Map((pod.spec?.containers ?? []).map((c) => [c.name, started]));
    await this.#write(pod.metadata.uid, { pod, ready, written: undefined }, started ? 'containers started' : 'containers not started');
  }

  forget(uid) {
    const state = this.#pods.get(uid);
    if (!state) return;
    this.#pods.delete(uid);
    for (const t of state.timers) clearTimeout(t);
  }

  async #write(uid, state, why) {
    const all = [...state.ready.values()].every(Boolean);
    if (state.written === all) return;
    const pod = state.pod;
    const now = new Date().toISOString();
    const cond = (type) => ({ type, status: all ? 'True' : 'False', lastTransitionTime: now, ...(all ? {} : { reason: 'ContainersNotReady' }) });
    const containerStatuses = (pod.spec.containers ?? []).map((c) => ({ name: c.name, ready: state.ready.get(c.name) ?? true }));
    try {
      await this.core.patchNamespacedPodStatus(
        { name: pod.metadata.name, namespace: pod.metadata.namespace, body: { status: { conditions: [cond('Ready'), cond('ContainersReady')], containerStatuses } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
      );
      state.written = all;
      this.log(`${pod.metadata.namespace}/${pod.metadata.name}: Ready ${all ? 'True' : 'False'} (${why})`);
    } catch (err) {
      if (err?.code !== 404) this.log(`${pod.metadata.namespace}/${pod.metadata.name}: cannot write readiness: ${err?.body?.message ?? err?.message ?? err}`);
    }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms).unref());
const exited = (child) => child.exitCode !== null || child.signalCode !== null;

/**
 * Stops one container's process the way a kubelet does: preStop sleep, SIGTERM, SIGKILL at the
 * end of the grace period (counted from `since`). `now` skips the hook and the grace (podrunner
 * shutting down). Resolves when the process has exited.
 */
export async function terminate(child, pod, container, { now = false, since = Date.now(), log = () => {} } = {}) {
  if (!child || exited(child)) return;
  const done = new Promise((r) => child.once('exit', r));
  const graceMs = Math.max(2, pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
  const deadline = since + graceMs;
  const hook = container?.lifecycle?.preStop?.sleep?.seconds;
  if (!now && hook > 0) {
    log(`${pod.metadata.namespace}/${pod.metadata.name} ${container.name}: preStop sleep ${hook}s`);
    await Promise.race([sleep(Math.min(hook * 1000, deadline - Date.now())), done]);
  }
  if (exited(child)) return;
  child.kill('SIGTERM');
  const left = now ? 2000 : Math.max(0, deadline - Date.now());
  const killed = await Promise.race([done.then(() => false), sleep(left).then(() => true)]);
  if (killed && !exited(child)) {
    log(`${pod.metadata.namespace}/${pod.metadata.name} ${container.name}: grace period over, SIGKILL`);
    child.kill('SIGKILL');
    await done;
  }
}
