// Assembles the Kubernetes-mode controller: source -> loop -> engine, status writer gated
// by leader election, admin endpoint. The CLI parses flags into these options; tests call
// runController() directly with a real engine and translator.

import type { KubeConfig } from '../sources/kubeconfig.js';
import type { Engine } from '../dataplane/engine-api.js';
import { ALL_KINDS, DEFAULT_CONTROLLER_NAME, GATEWAY_GROUP, GATEWAY_X_GROUP, GROUP_OF, Kind, type KindName } from '../api/names.js';
import { KubernetesSource } from '../sources/kubernetes.js';
import { LoopbackAllocator, stableMachineAddressUsable } from './addresses.js';
import { incrementalTranslate } from '../translate/incremental.js';
import { startAdmin, type AdminServer } from './admin.js';
import { checkAdminAddress } from '../observability/admin.js';
import { scrubSecrets } from '../ir/redact.js';
import { LeaderElector } from './leader.js';
import { ControllerLoop, type TranslateFn } from './loop.js';
import { StatusWriter } from './status-writer.js';
import { controllerMetrics, stampGoodApplies } from './metrics.js';
import { ControlPlaneMetrics } from '../observability/metrics/controlplane.js';
import { EARLY_KINDS, startProvisioned, withMergedClasses, type ProvisionedMode, type ProvisionedOptions } from './provisioned.js';
import { MASTER_SECRET, SyncKeys } from './sync-keys.js';
import { ingressReportLines, serveIngresses, type IngressServeOptions } from '../convert/serve.js';
import { IngressEvents } from './ingress-events.js';
import { ingressReleaser } from './ingress-status.js';
import { IngressDataPlanes } from './ingress-dataplanes.js';
import { randomBytes } from 'node:crypto';
import { Snapshot } from '../store/snapshot.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface RunControllerOptions {
  kubeConfig: KubeConfig;
  /**
   * in-process (default): this process's engine serves every Gateway (shared data plane, one
   * per replica). provisioned: each Gateway gets its own Deployment of `portico dataplane`,
   * configured over the config stream (./provisioned.ts); needs `provisioned`.
   */
  dataplane?: 'in-process' | 'provisioned';
  /** The in-process data plane; required unless dataplane is provisioned. */
  engine?: Engine;
  provisioned?: ProvisionedOptions;
  translate: TranslateFn;
  controllerName?: string;
  /**
   * Serve the Ingresses of IngressClasses with this spec.controller (convert/serve.ts).
   * Provisioned data planes only with `gateway` set: a generated Gateway has no object to own its Deployment.
   */
  ingress?: IngressServeOptions;
  /** loopback: one 127.x.y.z per Gateway; default: bind 0.0.0.0, report `gatewayAddress`. */
  addressMode?: 'loopback' | 'default';
  gatewayAddress?: string;
  loopbackRange?: string;
  /** Absent: this process always writes status (single replica). */
  leaderElection?: LeaderElectionConfig;
  /** host:port of the admin endpoint (all endpoints, /ir included): loopback unless adminAllowRemote; absent = none. */
  admin?: string;
  /** Let `admin` be a non-loopback address (a warning is logged). */
  adminAllowRemote?: boolean;
  /** host:port of the health listener: /healthz, /readyz, /metrics only (probes, Prometheus); absent = none. */
  health?: string;
  debounceMs?: number;
  rediscoverMs?: number;
  backoffMaxMs?: number;
  log?: (msg: string) => void;
}

export interface RunningController {
  loop: ControllerLoop;
  source: KubernetesSource;
  writer: StatusWriter;
  elector?: LeaderElector;
  /** Config stream, provisioner and keys (dataplane provisioned). */
  provisioned?: ProvisionedMode;
  admin?: AdminServer;
  health?: AdminServer;
  /** Resolves once the first IR from a fully listed cluster is being served. */
  started: Promise<void>;
  stop(): Promise<void>;
}

const WILDCARDS = new Set(['0.0.0.0', '::', '']);
/** A backstop for the start-up hold of status writes (provisioned mode), counted from the controller's start. */
const STATUS_HOLD_MAX_MS = 30_000;

/**
 * Gateway API kinds: the translator reads their specs only, and nothing downstream reads their
 * stored status from a snapshot (the status writer asks the source), so the echo of a status
 * write is no change to translate (sources/kubernetes.ts statusUnread). Services (LoadBalancer
 * addresses) and Ingresses (whose status is released by value) are not among them.
 */
const STATUS_UNREAD: ReadonlySet<KindName> = new Set((Object.keys(GROUP_OF) as KindName[]).filter((k) => GROUP_OF[k] === GATEWAY_GROUP || GROUP_OF[k] === GATEWAY_X_GROUP));

export async function runController(o: RunControllerOptions): Promise<RunningController> {
  // Nothing the controller logs may carry key material (ir/redact.ts), whoever supplies the sink.
  const sink = o.log ?? ((m: string) => console.error(`[controller] ${m}`));
  const log = (m: string) => sink(scrubSecrets(m));
  const adminWarning = o.admin ? checkAdminAddress(o.admin, o.adminAllowRemote ?? false) : undefined;
  const controllerName = o.controllerName ?? DEFAULT_CONTROLLER_NAME;
  const isProvisioned = o.dataplane === 'provisioned';
  if (isProvisioned && !o.provisioned) throw new Error('dataplane provisioned needs the provisioned options (image, sync address, namespace)');
  if (!isProvisioned && !o.engine) throw new Error('the in-process data plane needs an engine');
  const source = new KubernetesSource({
    kubeConfig: o.kubeConfig,
    // GatewayParameters only matter to provisioned data planes (and need RBAC on them).
    ...(isProvisioned ? { kinds: [...ALL_KINDS, Kind.GatewayParameters] } : {}),
    rediscoverMs: o.rediscoverMs,
    backoffMaxMs: o.backoffMaxMs,
    statusUnread: STATUS_UNREAD,
    log,
  });
  const writer = new StatusWriter({ store: source, controllerName, log });

  let addressFor: (ns: string, name: string) => string;
  let reportedAddress: ((bound: string) => string | undefined) | undefined;
  if ((o.addressMode ?? 'default') === 'loopback') {
    addressFor = new LoopbackAllocator(o.loopbackRange).addressFor;
  } else {
    addressFor = () => '0.0.0.0';
    const report = o.gatewayAddress ?? process.env.POD_IP;
    if (report) reportedAddress = (bound) => (WILDCARDS.has(bound) ? report : undefined);
  }

  const servedIngress = o.ingress;
  // Provisioned: each generated Ingress Gateway gets a data plane owned by its IngressClass.
  const ingressPlanes = servedIngress && isProvisioned ? new IngressDataPlanes(servedIngress.ingressController) : undefined;

  // What did not convert also goes on the Ingress as a Warning Event (the leader writes them).
  const ingressEvents = servedIngress
    ? new IngressEvents({ client: source.client, get: (ns, name) => source.get(Kind.Ingress, ns, name), enabled: () => writer.isEnabled, component: controllerName, log })
    : undefined;

  let provisioned: ProvisionedMode | undefined;
  if (isProvisioned) provisioned = await startProvisioned(o.provisioned!, source, controllerName, () => writer.isEnabled, log, ingressPlanes);

  // Session persistence keys derive from the master key Secret (portico-sync-master in the
  // controller's namespace), so all replicas agree. Provisioned mode creates it; in-process mode
  // reads it when an operator created it (its RBAC writes no Secrets) and otherwise keys sessions
  // per process, which is all a single replica needs.
  const keys = provisioned?.keys ?? new SyncKeys(source, process.env.POD_NAMESPACE ?? 'default');
  const processSeed = randomBytes(32).toString('hex');
  // Runs with Ingress serving off too: `--ingress-controller none` must still clear what was written.
  const releaseIngresses = ingressReleaser(reportedAddress);
  const cp = new ControlPlaneMetrics();
  // EndpointSlice-only and unreferenced changes skip route translation (translate/incremental.ts).
  const incremental = incrementalTranslate(o.translate);
  cp.trackIncremental(incremental.stats);
  const loop = new ControllerLoop({
    source,
    engine: provisioned?.engine ?? stampGoodApplies(o.engine!, cp),
    translate: cp.wrapTranslate(withIngresses(withMergedClasses(incremental, provisioned), servedIngress, log, ingressEvents, ingressPlanes)),
    onServed: (ms) => cp.servedAfter(ms),
    writer,
    controllerName,
    addressFor,
    // The data plane runs in this process: a static address is usable when this machine can bind it.
    // Per-Gateway data planes bind in their pods, and the translator does not ask (translate/types.ts):
    // reading this machine's interfaces was 0.1-2.4 ms of every rebuild there.
    addressUsable: provisioned ? undefined : stableMachineAddressUsable(),
    reportedAddress,
    sessionSeed: () => keys.sessionSeed() ?? processSeed,
    extendStatuses: (snapshot, statuses) => releaseIngresses(snapshot, provisioned ? provisioned.extendStatuses(snapshot, statuses) : statuses),
    ...(provisioned
      ? {
          dataPlanes: 'per-gateway' as const,
          rebuildOn: (c) => provisioned.rebuildOn(c),
          beforeFirstBuild: () => provisioned.ensureMasterKey(),
        }
      : { rebuildOn: (c) => c.kind === Kind.Secret && c.resource.metadata.name === MASTER_SECRET && c.resource.metadata.namespace === keys.namespace }),
    debounceMs: o.debounceMs,
    log,
  });
  provisioned?.setRebuild(() => loop.requestRebuild());
  if (provisioned) {
    const early: ReadonlySet<string> = new Set(EARLY_KINDS);
    void source
      .whenListed(EARLY_KINDS)
      .then(() => provisioned.provisionEarly(new Snapshot(source.entries().filter((e) => early.has(e.resource.kind))), o.translate, { controllerName, addressFor, dataPlanes: 'per-gateway' }))
      .catch((err: unknown) => log(`early provisioning skipped (the first build provisions): ${(err as Error).message}`));
  }
  // Serving first: the start-up status burst waits for the data planes (./provisioned.ts firstServed).
  if (provisioned) writer.hold(provisioned.firstServed, STATUS_HOLD_MAX_MS);

  let elector: LeaderElector | undefined;
  if (o.leaderElection) {
    elector = new LeaderElector({
      client: source.client,
      ...o.leaderElection,
      onStartedLeading: () => {
        writer.setEnabled(true);
        provisioned?.provisioner.leadershipChanged();
      },
      onStoppedLeading: () => writer.setEnabled(false),
      log,
    });
  } else {
    writer.setEnabled(true);
  }

  const adminState: Parameters<typeof startAdmin>[1] = {
    ready: () =>
      loop.ready
        ? { ok: true }
        : { ok: false, reason: source.synced ? (loop.lastError ?? 'first build pending') : 'informers not synced' },
    ir: () => loop.lastIR,
    metrics: controllerMetrics(cp, () => ({ loop, writer, source, engine: o.engine })),
    // Provisioned data planes count their own traffic (their pods' /metrics): here only the in-process engine's.
    dashboard: { mode: 'kubernetes', ir: () => loop.lastIR, statuses: () => loop.lastStatuses, metrics: () => [cp.registry, o.engine] },
  };
  const admin = o.admin ? await startAdmin(o.admin, adminState, { role: 'admin', allowRemote: o.adminAllowRemote }) : undefined;
  if (admin) log(`admin endpoint on ${admin.address.address}:${admin.address.port} (dashboard at /; /healthz /readyz /ir /metrics)`);
  if (adminWarning) log(adminWarning);
  let health: AdminServer | undefined;
  try {
    health = o.health ? await startAdmin(o.health, adminState, { role: 'health' }) : undefined;
  } catch (err) {
    await admin?.close();
    throw err;
  }
  if (health) log(`health endpoint on ${health.address.address}:${health.address.port} (/healthz /readyz /metrics)`);

  elector?.start();
  const started = loop.start();
  started.catch((err: unknown) => log(`controller start failed: ${(err as Error).message}`));

  return {
    loop,
    source,
    writer,
    elector,
    provisioned,
    admin,
    health,
    started,
    async stop() {
      await elector?.stop();
      writer.stop();
      await loop.stop();
      await provisioned?.stop();
      await source.stop();
      await admin?.close();
      await health?.close();
    },
  };
}

/**
 * `translate` serving the Ingresses of Portico's IngressClasses, each report line (an
 * annotation that did not convert, a host nothing serves) logged once while it holds.
 */
function withIngresses(translate: TranslateFn, options: IngressServeOptions | undefined, log: (m: string) => void, events?: IngressEvents, planes?: IngressDataPlanes): TranslateFn {
  if (!options) return translate;
  const serving = planes ? planes.outer(serveIngresses(planes.inner(translate), options)) : serveIngresses(translate, options);
  let shown = new Set<string>();
  return (snapshot, translateOptions) => {
    const result = serving(snapshot, translateOptions);
    const now = new Set(ingressReportLines(result));
    for (const l of now) if (!shown.has(l)) log(`warning: ${l}`);
    shown = now;
    events?.report(result.ingresses?.report ?? []);
    return result;
  };
}
