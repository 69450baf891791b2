// `portico controller`: Kubernetes mode. Flags in, a running controller out; stops cleanly
// on SIGINT/SIGTERM (releasing the leader lease so a standby takes over at once).

import { ACCESS_LOG_FLAGS, accessLogEngineOptions, accessLogFlagsUsage, accessLogSettings, type AccessLogSettings } from './access-log-flags.js';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import { gatewayParametersSpec, type GatewayParametersSpec } from '../api/gatewayparameters.js';
import { walk, type FieldError } from '../api/validate-schema.js';
import { parseArgs } from 'node:util';
import { KubeConfig } from '../sources/kubeconfig.js';
import { DEFAULT_CONTROLLER_NAME } from '../api/names.js';
import type { Engine, EngineOptions } from '../dataplane/engine-api.js';
import { runController, type RunControllerOptions } from '../controller/index.js';
import type { TranslateFn } from '../controller/loop.js';
import { PATH_FLAGS, pathEngineOptions, pathFlagsUsage, type PathEngineOptions } from './path-flags.js';
import { INGRESS_FLAGS, ingressFlagsUsage, ingressServeOptions } from './ingress-flags.js';
import type { IngressServeOptions } from '../convert/serve.js';
import { checkAdminAddress, parseHostPort } from '../observability/admin.js';
import { scrubSecrets } from '../ir/redact.js';

export const DEFAULT_IMAGE = 'ghcr.io/portico-dev/portico:0.1.0';

const USAGE = `usage: portico controller [flags]

  --kubeconfig PATH                 kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --controller-name NAME            GatewayClass controllerName to serve (default ${DEFAULT_CONTROLLER_NAME})
  --gateway-address-mode MODE       default: listen on 0.0.0.0, report --gateway-address or $POD_IP
                                    loopback: one 127.x.y.z per Gateway (local clusters, conformance)
  --gateway-address IP              address reported in Gateway status.addresses (default mode)
  --gateway-address-range CIDR      loopback range for per-Gateway addresses (default 127.64.0.0/16)
  --leader-elect                    elect a leader with a coordination.k8s.io Lease; only it writes status
  --leader-elect-namespace NS       Lease namespace (default $POD_NAMESPACE or "default")
  --leader-elect-name NAME          Lease name (default portico-controller)
  --leader-elect-id ID              this replica's identity (default $POD_NAME or hostname_pid)
  --leader-elect-lease-duration D   default 15s
  --leader-elect-renew-deadline D   default 10s
  --leader-elect-retry-period D     default 2s
  --admin HOST:PORT                 /healthz, /readyz, /ir, /metrics (default 127.0.0.1:9090; "off" disables).
                                    /ir reveals the configuration: loopback only (kubectl port-forward reaches it)
  --admin-allow-remote              let --admin be a non-loopback address (logs a warning; not recommended)
  --health HOST:PORT                /healthz, /readyz, /metrics only, for probes and Prometheus
                                    (default off; deploy/ uses 0.0.0.0:9091; ":9091" means 0.0.0.0:9091)
  --dataplane MODE                  provisioned (default): each accepted Gateway gets its own Deployment/Service
                                    of \`portico dataplane\`, configured over the config stream (deploy/README.md);
                                    in-process: this one process serves every Gateway itself (Gateways sharing a
                                    port conflict)
  --dataplane-image IMAGE           image of provisioned data planes (default ${DEFAULT_IMAGE})
  --dataplane-defaults FILE         YAML GatewayParameters spec: defaults below GatewayClass/Gateway parameters
  --dataplane-health-port N         data planes' /healthz /readyz /metrics port, container port "health" (default 9091)
  --dataplane-pull-policy P         imagePullPolicy of provisioned data planes: Always, IfNotPresent (default) or Never
  --sync-listen HOST:PORT           config stream listener, every replica (default 0.0.0.0:18000)
  --sync-address HOST:PORT          where data planes reach it (default portico-sync.<namespace>.svc:18000)
  --namespace NS                    the controller's namespace: master key Secret (default $POD_NAMESPACE or "default")
  --debounce D                      quiet period batching changes before a rebuild (default 100ms)
  --access-log                      one JSON line per request on stdout (in-process data plane)
${accessLogFlagsUsage(33)}${pathFlagsUsage(33)}${ingressFlagsUsage(33)}`;

/** "15s", "100ms", "1m" or a bare number of seconds. */
export function parseDuration(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s.trim());
  if (!m) throw new Error(`${flag} "${s}": expected a duration such as 15s, 500ms or 1m`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(n * { ms: 1, s: 1000, m: 60000, h: 3600000 }[unit]!);
}

export async function controllerCommand(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        kubeconfig: { type: 'string' },
        'controller-name': { type: 'string' },
        'gateway-address-mode': { type: 'string' },
        'gateway-address': { type: 'string' },
        'gateway-address-range': { type: 'string' },
        'leader-elect': { type: 'boolean' },
        'leader-elect-namespace': { type: 'string' },
        'leader-elect-name': { type: 'string' },
        'leader-elect-id': { type: 'string' },
        'leader-elect-lease-duration': { type: 'string' },
        'leader-elect-renew-deadline': { type: 'string' },
        'leader-elect-retry-period': { type: 'string' },
        admin: { type: 'string' },
        'admin-allow-remote': { type: 'boolean' },
        health: { type: 'string' },
        debounce: { type: 'string' },
        dataplane: { type: 'string' },
        'dataplane-image': { type: 'string' },
        'dataplane-defaults': { type: 'string' },
        'dataplane-health-port': { type: 'string' },
        'dataplane-pull-policy': { type: 'string' },
        'sync-listen': { type: 'string' },
        'sync-address': { type: 'string' },
        namespace: { type: 'string' },
        'access-log': { type: 'boolean' },
        ...ACCESS_LOG_FLAGS,
        ...PATH_FLAGS,
        ...INGRESS_FLAGS,
      },
    }));
  } catch (err) {
    process.stderr.write(`portico controller: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const str = (k: string): string | undefined => values[k] as string | undefined;

  let pathOptions: PathEngineOptions;
  let logSettings: AccessLogSettings;
  let ingress: IngressServeOptions | undefined;
  try {
    pathOptions = pathEngineOptions(values);
    ingress = ingressServeOptions(values);
    logSettings = accessLogSettings(values as Record<string, string | boolean | undefined>);
  } catch (err) {
    process.stderr.write(`portico controller: ${(err as Error).message}\n`);
    return 2;
  }

  let options: Omit<RunControllerOptions, 'engine' | 'translate'>;
  try {
    const dataplane = str('dataplane') ?? 'provisioned';
    if (dataplane !== 'in-process' && dataplane !== 'provisioned') throw new Error(`--dataplane "${dataplane}": expected in-process or provisioned`);
    const namespace = str('namespace') ?? process.env.POD_NAMESPACE ?? 'default';
    if (str('sync-listen')) parseHostPort(str('sync-listen')!, '--sync-listen');
    const mode = str('gateway-address-mode') ?? 'default';
    if (mode !== 'default' && mode !== 'loopback') {
      throw new Error(`--gateway-address-mode "${mode}": expected default or loopback`);
    }
    const kubeConfig = new KubeConfig();
    const path = str('kubeconfig');
    if (path) kubeConfig.loadFromFile(path);
    else kubeConfig.loadFromDefault();
    if (!kubeConfig.getCurrentCluster()) throw new Error('no cluster in the kubeconfig (use --kubeconfig)');
    const admin = str('admin') ?? '127.0.0.1:9090';
    if (admin !== 'off') checkAdminAddress(admin, values['admin-allow-remote'] === true);
    const health = str('health');
    if (health !== undefined && health !== 'off') parseHostPort(health, '--health');
    options = {
      kubeConfig,
      controllerName: str('controller-name') ?? DEFAULT_CONTROLLER_NAME,
      addressMode: mode,
      gatewayAddress: str('gateway-address'),
      loopbackRange: str('gateway-address-range'),
      admin: admin === 'off' ? undefined : admin,
      adminAllowRemote: values['admin-allow-remote'] === true,
      health: health === undefined || health === 'off' ? undefined : health,
      debounceMs: str('debounce') ? parseDuration(str('debounce')!, '--debounce') : undefined,
      dataplane,
      ...(ingress ? { ingress } : {}),
      ...(dataplane === 'provisioned'
        ? {
            provisioned: {
              namespace,
              ...(str('sync-listen') ? { syncListen: str('sync-listen') } : {}),
              settings: {
                image: str('dataplane-image') ?? DEFAULT_IMAGE,
                syncAddress: str('sync-address') ?? `portico-sync.${namespace}.svc:18000`,
                ...(str('dataplane-defaults') ? { defaults: readDefaults(str('dataplane-defaults')!) } : {}),
                ...(str('dataplane-health-port') ? { healthPort: portFlag(str('dataplane-health-port')!, '--dataplane-health-port') } : {}),
                ...(str('dataplane-pull-policy') ? { imagePullPolicy: pullPolicy(str('dataplane-pull-policy')!) } : {}),
              },
            },
          }
        : {}),
      leaderElection: values['leader-elect']
        ? {
            namespace: str('leader-elect-namespace') ?? process.env.POD_NAMESPACE ?? 'default',
            name: str('leader-elect-name') ?? 'portico-controller',
            identity: str('leader-elect-id') ?? process.env.POD_NAME ?? `${os.hostname()}_${process.pid}`,
            leaseDurationMs: parseDuration(str('leader-elect-lease-duration') ?? '15s', '--leader-elect-lease-duration'),
            renewDeadlineMs: parseDuration(str('leader-elect-renew-deadline') ?? '10s', '--leader-elect-renew-deadline'),
            retryPeriodMs: parseDuration(str('leader-elect-retry-period') ?? '2s', '--leader-elect-retry-period'),
          }
        : undefined,
    };
  } catch (err) {
    process.stderr.write(`portico controller: ${(err as Error).message}\n`);
    return 2;
  }

  const { translate, createEngine } = await loadPipeline();
  const engineOptions: EngineOptions = { ...pathOptions, ...accessLogEngineOptions(values['access-log'] === true, logSettings) };
  // Provisioned data planes serve the traffic: this process runs no engine of its own.
  const engine = options.dataplane === 'provisioned' ? { apply: async () => ({ unbound: [] }), close: async () => undefined } : createEngine(engineOptions);
  let running: Awaited<ReturnType<typeof runController>>;
  try {
    running = await runController({ ...options, ...(options.dataplane === 'provisioned' ? {} : { engine }), translate });
  } catch (err) {
    process.stderr.write(`portico controller: ${scrubSecrets((err as Error).message)}\n`);
    await engine.close(0);
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`[controller] ${signal}: stopping\n`);
      void running
        .stop()
        .then(() => engine.close(5000))
        .then(
          () => resolve(0),
          (err: unknown) => {
            process.stderr.write(`portico controller: shutdown: ${(err as Error).message}\n`);
            resolve(1);
          },
        );
    };
    process.once('SIGINT', () => shutdown('SIGINT'));
    process.once('SIGTERM', () => shutdown('SIGTERM'));
  });
}

/** --dataplane-defaults: a GatewayParameters spec (YAML or JSON), checked like the CRD checks it. */
function portFlag(s: string, flag: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new Error(`${flag} "${s}": expected a port number from 1 to 65535`);
  return n;
}

const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
function pullPolicy(s: string): (typeof PULL_POLICIES)[number] {
  const p = PULL_POLICIES.find((x) => x === s);
  if (!p) throw new Error(`--dataplane-pull-policy "${s}": expected one of ${PULL_POLICIES.join(', ')}`);
  return p;
}

function readDefaults(file: string): GatewayParametersSpec {
  const spec = YAML.parse(readFileSync(file, 'utf8')) as unknown;
  const errors: FieldError[] = [];
  walk(gatewayParametersSpec, spec ?? {}, 'spec', errors);
  if (errors.length > 0) throw new Error(`--dataplane-defaults ${file}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return (spec ?? {}) as GatewayParametersSpec;
}

/** The translator and the engine, loaded when the command runs (the CLI's other commands do not need them). */
export async function loadPipeline(): Promise<{ translate: TranslateFn; createEngine: (o: EngineOptions) => Engine }> {
  const [t, e] = await Promise.all([import('../translate/index.js'), import('../dataplane/engine.js')]);
  return { translate: t.translate as TranslateFn, createEngine: e.createEngine as (o: EngineOptions) => Engine };
}
