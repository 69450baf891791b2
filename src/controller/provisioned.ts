// `portico controller --dataplane provisioned`: every Gateway gets its own data plane. Every
// replica runs a SyncServer and publishes each translation's IR to it (the server hands each
// data plane its Gateway's slice); the leader provisions (./provisioner.ts) and writes status,
// to which ./provisioned-status.ts adds what only the cluster and the data planes know.

import type { AddressInfo } from 'node:net';
import type { Engine } from '../dataplane/engine-api.js';
import { Kind, type KindName } from '../api/names.js';
import type { ProvisionSettings } from '../provision/index.js';
import { sameStatusAddresses, type ServiceView } from '../provision/addresses.js';
import type { KubernetesSource, SourceChange } from '../sources/kubernetes.js';
import type { Snapshot } from '../store/snapshot.js';
import type { ObjectStatus, TranslateOptions } from '../translate/types.js';
import { SyncServer } from '../sync/server.js';
import type { TranslateFn } from './loop.js';
import { parseHostPort } from '../observability/admin.js';
import { mergedClassesOf, planProvisioning, type ProvisionPlan } from './provision-plan.js';
import { decorateProvisioned } from './provisioned-status.js';
import type { IngressDataPlanes } from './ingress-dataplanes.js';
import { Provisioner } from './provisioner.js';
import { MASTER_SECRET, SyncKeys } from './sync-keys.js';

export interface ProvisionedOptions {
  /** Image, config-stream address for the pods (`portico-sync.<ns>.svc:18000`), defaults (Helm values). */
  settings: ProvisionSettings;
  /** The controller's namespace: the master key Secret lives there. */
  namespace: string;
  /** host:port the config stream listens on. Default 0.0.0.0:18000. */
  syncListen?: string;
}

export interface ProvisionedMode {
  /** Stands in for the in-process engine: apply(ir) publishes to the config stream. */
  engine: Engine;
  server: SyncServer;
  provisioner: Provisioner;
  keys: SyncKeys;
  syncAddress: AddressInfo;
  extendStatuses(snapshot: Snapshot, statuses: readonly ObjectStatus[]): readonly ObjectStatus[];
  /** GatewayClasses whose Gateways share a merged data plane (TranslateOptions.mergedGatewayClasses). */
  mergedClasses(snapshot: Snapshot): ReadonlySet<string>;
  rebuildOn(c: SourceChange): boolean;
  /**
   * Once the kinds a Gateway's data plane is made from are listed (EARLY_KINDS), and before the
   * routes are: plan from what they alone translate to and let the leader apply it, so the cluster
   * starts the pods while the controller lists and translates the routes. Does nothing once a
   * whole translation has planned. `translate` is the plain translator: this snapshot must not
   * become the incremental translator's kept state. Rejects when it throws (the caller logs it;
   * the first build provisions then).
   */
  provisionEarly(snapshot: Snapshot, translate: TranslateFn, options: TranslateOptions): Promise<void>;
  /**
   * Before the first build, the leader creates the master key Secret if it is missing and waits
   * (bounded) for the informer to hold it: the first translation then has the session seed, and a
   * cold start makes one full translation instead of two before any data plane is provisioned.
   */
  ensureMasterKey(): Promise<void>;
  /**
   * Settles once every data plane of the first plan has acknowledged a config (or none is
   * planned), or FIRST_SERVED_WAIT_MS after that plan: the status writer holds its start-up burst till then.
   */
  firstServed: Promise<void>;
  /** Late binding of the loop's requestRebuild (the loop is built after this). */
  setRebuild(fn: () => void): void;
  stop(): Promise<void>;
}

export const DEFAULT_SYNC_PORT = 18000;
/**
 * What decides whether a Gateway is accepted and what is provisioned for it: its GatewayClass,
 * its GatewayParameters, the ListenerSets that add listeners (their acceptance reads Namespaces'
 * labels), and Secrets (the master key the pods' keys derive from).
 */
export const EARLY_KINDS: readonly KindName[] = [Kind.GatewayClass, Kind.Gateway, Kind.ListenerSet, Kind.GatewayParameters, Kind.Namespace, Kind.Secret];
/** The longest a rebuild waits for a whole state to leave before going on (a slow pod must not hold every rebuild). */
const FLUSH_WAIT_MS = 1000;
/** How long the first build waits for a just-created master key to reach the informer cache. */
const MASTER_WAIT_MS = 2000;
/** The longest the start-up status writes wait for the data planes (pods may be pulling images). */
const FIRST_SERVED_WAIT_MS = 5000;

export async function startProvisioned(
  o: ProvisionedOptions,
  source: KubernetesSource,
  controllerName: string,
  isLeader: () => boolean,
  log: (m: string) => void,
  /** Served Ingresses: their generated Gateways get data planes too (./ingress-dataplanes.ts). */
  ingress?: IngressDataPlanes,
): Promise<ProvisionedMode> {
  let rebuild: () => void = () => undefined;
  let plan: ProvisionPlan | undefined;
  // Merged data planes live in the controller's namespace.
  const settings: ProvisionSettings = { ...o.settings, namespace: o.settings.namespace ?? o.namespace };
  const mergedClasses = mergedClassesOf(controllerName, settings);
  const keys = new SyncKeys(source, o.namespace);
  let resolveServed: () => void = () => undefined;
  const firstServed = new Promise<void>((r) => (resolveServed = r));
  let servedTimer: NodeJS.Timeout | undefined;
  let isServed = false;
  const served = (): void => {
    isServed = true;
    clearTimeout(servedTimer);
    resolveServed();
  };
  // Once settled it is not looked at again: every later ACK would walk every planned data plane.
  const checkServed = (): void => {
    if (!plan || isServed) return;
    if (!servedTimer) (servedTimer = setTimeout(served, FIRST_SERVED_WAIT_MS)).unref();
    for (const key of plan.streams.keys()) if (!server.status(key).clients.some((c) => c.acked)) return;
    served();
  };
  const seen = new Map<string, string>();
  const reported = (gateway: string): void => {
    checkServed();
    // a NACK, or a different set of unbound ports: the statuses change
    const st = server.status(gateway);
    const sig = JSON.stringify([st.lastNack?.version ?? null, st.clients.map((c) => c.acked?.unbound ?? []).filter((u) => u.length > 0)]);
    if (seen.get(gateway) === sig) return;
    seen.set(gateway, sig);
    rebuild();
  };
  const server = new SyncServer({
    // Only Gateways of this controller's classes get a key (and so a handshake).
    keyFor: (gateway) => (plan?.gateways.has(gateway) || plan?.streams.has(gateway) ? keys.keyOf(gateway) : undefined),
    // A merged data plane (`GatewayClass/<class>`) is sent the IR of every Gateway it serves.
    membersOf: (identity) => plan?.streams.get(identity)?.members,
    ...(() => {
      const l = parseHostPort(o.syncListen ?? `0.0.0.0:${DEFAULT_SYNC_PORT}`, '--sync-listen');
      return { host: l.host, port: l.port };
    })(),
    log,
    // Only the leader serves configs, so every ACK and NACK reaches the replica that writes status.
    serving: isLeader,
    onNack: (n) => reported(n.gateway),
    onAck: (gateway) => reported(gateway),
  });
  const syncAddress = await server.listen();
  log(`config stream on ${syncAddress.address}:${syncAddress.port}; data planes are told ${o.settings.syncAddress}`);
  const provisioner = new Provisioner({
    client: source.client,
    keys,
    isLeader,
    log,
    onErrorsChanged: () => rebuild(),
    // The pod's whole state is encoded while the cluster creates it, not once it has connected.
    onApplied: (stream) => server.expect(stream),
  });

  const ensureMasterKey = async (): Promise<void> => {
    if (!isLeader() || keys.master()) return;
    try {
      await keys.ensureMaster(source.client, log);
    } catch (err) {
      // The provisioner tries again with its first plan.
      return log(`cannot create the config-stream master key Secret: ${(err as Error).message}`);
    }
    const until = Date.now() + MASTER_WAIT_MS;
    while (!keys.master() && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
  };

  return {
    engine: {
      apply: async (ir) => {
        server.publish(ir);
        // A whole state (a pod's first config) leaves before the rebuild goes on to its statuses.
        await server.flushed(FLUSH_WAIT_MS);
        return { unbound: [] };
      },
      close: async () => undefined,
    },
    server,
    provisioner,
    keys,
    syncAddress,
    extendStatuses(snapshot, statuses) {
      plan = planProvisioning(snapshot, statuses, controllerName, settings, ingress?.generated());
      provisioner.update(plan);
      checkServed();
      const decorate = (list: readonly ObjectStatus[]) => decorateProvisioned(list, { snapshot, plan: plan!, applyErrors: provisioner.errors, sync: (g) => server.status(g) });
      return ingress ? ingress.ingressStatuses(statuses, decorate) : decorate(statuses);
    },
    mergedClasses,
    async provisionEarly(snapshot, translate, options) {
      await ensureMasterKey();
      if (plan || !isLeader()) return;
      const merged = mergedClasses(snapshot);
      const { statuses } = translate(snapshot, merged.size > 0 ? { ...options, mergedGatewayClasses: merged } : options);
      plan = { ...planProvisioning(snapshot, statuses, controllerName, settings), partial: true };
      log(`provisioning ${plan.streams.size} data plane(s) before the routes are listed`);
      provisioner.update(plan);
    },
    rebuildOn(c) {
      // Any GatewayParameters; the master key Secret (keys derive from it).
      if (c.kind === Kind.GatewayParameters) return true;
      const m = c.resource.metadata;
      if (c.kind === Kind.Secret && m.namespace === keys.namespace && m.name === MASTER_SECRET) return true;
      // A provisioned Service (its load-balancer status is the Gateway's address) or -sync Secret;
      // one deleted by someone else is applied again.
      const labels = m.labels ?? {};
      const ours = labels['app.kubernetes.io/managed-by'] === 'portico' && labels['app.kubernetes.io/component'] === 'dataplane';
      if (!ours || (c.kind !== Kind.Service && c.kind !== Kind.Secret)) return false;
      if (c.type === 'delete') provisioner.resync();
      // Our own writes come back as updates (a Gateway's listener moved: the Service's ports). A
      // rebuild for one changes no status, and counted as a change it made the next real change
      // wait out the debounce of a burst (~100 ms): only what the Gateway's addresses read counts.
      if (c.kind === Kind.Service && c.type === 'update' && c.old && sameStatusAddresses(c.old as ServiceView, c.resource as ServiceView)) return false;
      return true;
    },
    firstServed,
    ensureMasterKey,
    setRebuild(fn) {
      rebuild = fn;
    },
    async stop() {
      served();
      await provisioner.stop();
      await server.close();
    },
  };
}

/** `translate` told which GatewayClasses merge their Gateways (nothing changes without provisioned mode). */
export function withMergedClasses(translate: TranslateFn, provisioned: ProvisionedMode | undefined): TranslateFn {
  if (!provisioned) return translate;
  return (snapshot, options) => {
    const merged = provisioned.mergedClasses(snapshot);
    return translate(snapshot, merged.size > 0 ? { ...options, mergedGatewayClasses: merged } : options);
  };
}
