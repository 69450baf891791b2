// `portico run <paths...>`: file mode. Manifests -> Snapshot -> translate -> engine, reloaded
// on every change (debounced by the file source); prints what the translator decided;
// SIGINT/SIGTERM drain in-flight requests and exit.

import { ACCESS_LOG_FLAGS, accessLogEngineOptions, accessLogFlagsUsage, accessLogSettings, type AccessLogSettings } from './access-log-flags.js';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEFAULT_CONTROLLER_NAME } from '../api/names.js';
import type { Engine } from '../dataplane/engine-api.js';
import type { IR } from '../ir/types.js';
import { Snapshot } from '../store/snapshot.js';
import { FileSource, formatProblem, type FileState } from '../sources/files.js';
import type { ObjectStatus, TranslateResult } from '../translate/types.js';
import { checkAdminAddress, parseHostPort } from '../observability/admin.js';
import { scrubSecrets } from '../ir/redact.js';
import { RunSummary } from './report.js';
import { startRunAdmin, type RunAdmin } from './admin.js';
import { loadEngine, loadIncrementalTranslate, loadTranslate } from './pipeline.js';
import { applyTranslation, describeUnbound, RETRY_UNBOUND_MS } from '../controller/unbound.js';
import { stableMachineAddressUsable } from '../controller/addresses.js';
import { METRICS_FLAG, parseMetricsFlag } from './metrics-flag.js';
import { ControlPlaneMetrics } from '../observability/metrics/controlplane.js';
import { PATH_FLAGS, pathEngineOptions, pathFlagsUsage, type PathEngineOptions } from './path-flags.js';
import { INGRESS_FLAGS, ingressFlagsUsage, ingressReportLines, ingressServeOptions } from './ingress-flags.js';
import { serveIngresses, type IngressServeOptions } from '../convert/serve.js';

const USAGE = `usage: portico run <file|folder>... [flags]

Serves the Gateway API manifests in the given files and folders (.yaml, .yml, .json,
recursively) on this machine, and reloads them when they change. A manifest that becomes
invalid keeps its last good version; problems are printed as file:line. Ingresses
(networking.k8s.io/v1) of an IngressClass whose spec.controller is Portico's are served too.

  --controller-name NAME   GatewayClass controllerName to act for (default ${DEFAULT_CONTROLLER_NAME})
  --workers N              data-plane worker processes sharing the listeners (default: CPU cores)
  --admin HOST:PORT        serve the dashboard (/) and GET /healthz, /readyz, /metrics, /ir and /status there (e.g. 127.0.0.1:9901);
                           loopback only: /ir and /status reveal the configuration (":9901" = 127.0.0.1)
  --admin-allow-remote     let --admin be a non-loopback address (logs a warning; not recommended)
  --health HOST:PORT       serve only GET /healthz, /readyz and /metrics there (any address)
  --metrics on|off         Prometheus metrics on /metrics of --admin and --health (default on)
  --access-log             one JSON line per request on stdout (and per L4 connection or UDP session)
${accessLogFlagsUsage(24)}  --grace D                how long to drain in-flight requests on SIGINT/SIGTERM, in ms (default 5000)
${pathFlagsUsage(24)}${ingressFlagsUsage(24)}  -h, --help               this help
`;

interface RunFlags {
  paths: string[];
  controllerName: string;
  workers: number;
  admin?: string;
  adminAllowRemote: boolean;
  health?: string;
  accessLog: boolean;
  /** --access-log-file/-fields/-format/-sample, --request-id (absent: defaults). */
  log?: AccessLogSettings;
  /** --metrics on|off: the engine counts Prometheus metrics. */
  metrics: boolean;
  graceMs: number;
  /** Path normalisation engine options (--path-escaped-slashes, --path-merge-slashes). */
  path: PathEngineOptions;
  /** Serving Ingresses (--ingress-*); absent with --ingress-controller none. */
  ingress?: IngressServeOptions;
}

export function parseRunArgs(argv: string[]): RunFlags | { help: true } | { error: string } {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'controller-name': { type: 'string' },
        workers: { type: 'string' },
        admin: { type: 'string' },
        'admin-allow-remote': { type: 'boolean' },
        health: { type: 'string' },
        'access-log': { type: 'boolean' },
        ...ACCESS_LOG_FLAGS,
        grace: { type: 'string' },
        ...METRICS_FLAG,
        ...PATH_FLAGS,
        ...INGRESS_FLAGS,
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (values.help) return { help: true };
  if (positionals.length === 0) return { error: 'name at least one file or folder' };
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const workers = values.workers === undefined ? cores : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) return { error: `--workers must be a whole number from 1 to 256 (got "${String(values.workers)}")` };
  const graceMs = values.grace === undefined ? 5000 : Number(values.grace);
  if (!Number.isFinite(graceMs) || graceMs < 0) return { error: `--grace must be a number of milliseconds (got "${String(values.grace)}")` };
  let path: PathEngineOptions;
  let metrics: boolean;
  let log: AccessLogSettings;
  let ingress: IngressServeOptions | undefined;
  try {
    ingress = ingressServeOptions(values);
    metrics = parseMetricsFlag(values.metrics);
    log = accessLogSettings(values);
    path = pathEngineOptions(values);
  } catch (e) {
    return { error: (e as Error).message };
  }
  try {
    if (typeof values.admin === 'string') checkAdminAddress(values.admin, values['admin-allow-remote'] === true);
    if (typeof values.health === 'string') parseHostPort(values.health, '--health');
  } catch (e) {
    return { error: (e as Error).message };
  }
  return {
    paths: positionals,
    controllerName: typeof values['controller-name'] === 'string' ? values['controller-name'] : DEFAULT_CONTROLLER_NAME,
    workers,
    admin: typeof values.admin === 'string' ? values.admin : undefined,
    adminAllowRemote: values['admin-allow-remote'] === true,
    health: typeof values.health === 'string' ? values.health : undefined,
    accessLog: values['access-log'] === true,
    ...(Object.keys(log).length ? { log } : {}),
    metrics,
    graceMs,
    path,
    ...(ingress ? { ingress } : {}),
  };
}

function listening(ir: IR): string {
  return ir.ports
    .map((p) => `  ${p.protocol.padEnd(5)} ${p.address.includes(':') ? `[${p.address}]` : p.address}:${p.port}  ${p.listeners.map((l) => l.name).join(', ')}`)
    .join('\n');
}

export async function runCommand(argv: string[]): Promise<number> {
  const flags = parseRunArgs(argv);
  if ('help' in flags) {
    process.stdout.write(USAGE);
    return 0;
  }
  if ('error' in flags) {
    process.stderr.write(`portico run: ${flags.error}\n\n${USAGE}`);
    return 2;
  }
  // Every line this command logs is scrubbed of key material (ir/redact.ts): errors can quote input.
  const log = (t: string) => {
    const s = scrubSecrets(t);
    process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
  };
  const [rawTranslate, incrementalTranslate, createEngine] = await Promise.all([loadTranslate(), loadIncrementalTranslate(), loadEngine()]);
  // Translations counted and timed, objects and conditions recorded (observability/metrics).
  const cp = new ControlPlaneMetrics();
  // EndpointSlice-only and unreferenced changes skip route translation (translate/incremental.ts).
  // Ingresses of Portico's IngressClasses join the snapshot as Gateway API objects (convert/serve.ts).
  const incremental = incrementalTranslate(rawTranslate);
  cp.trackIncremental(incremental.stats);
  const translate = cp.wrapTranslate(flags.ingress ? serveIngresses(incremental, flags.ingress) : incremental);
  const addressUsable = stableMachineAddressUsable();
  const addressFor = () => '0.0.0.0';

  let current: { ir: IR; statuses: ObjectStatus[]; problems: FileState['problems']; generation: number; ingresses?: TranslateResult['ingresses'] } | undefined;
  let shownProblems = new Set<string>();
  let shownIngress = new Set<string>();
  const summary = new RunSummary();
  let generation = 0;
  let retry: NodeJS.Timeout | undefined;
  let shownUnbound = '';
  /** The newest state the source gave: a retry rebuilds this one, never an older one. */
  let latest: FileState | undefined;
  let lastSnapshot: Snapshot | undefined;

  const engine: Engine = createEngine({
    workers: flags.workers,
    metrics: flags.metrics,
    ...flags.path,
    ...accessLogEngineOptions(flags.accessLog, flags.log),
  });

  const printProblems = (state: FileState) => {
    const now = new Set(state.problems.map(formatProblem));
    for (const p of now) if (!shownProblems.has(p)) log(p);
    shownProblems = now;
  };

  const sessionSeed = randomBytes(32).toString('hex');
  /** Translates and applies one file state; false when the engine refused it (previous config keeps serving). */
  const build = async (state: FileState): Promise<boolean> => {
    const keep = current ? 'still serving the previous configuration' : 'nothing to fall back to';
    if (retry) clearTimeout(retry);
    retry = undefined;
    // From the previous snapshot and the file source's map of entries: it costs what changed (store/snapshot.ts).
    const snapshot = new Snapshot(state.byKey ?? state.entries, lastSnapshot);
    lastSnapshot = snapshot;
    // spec.addresses this machine does not have: Programmed False AddressNotUsable, as in the controller.
    // Session persistence keys derive from one seed per process: every worker gets the same keys.
    const options = { controllerName: flags.controllerName, addressFor, addressUsable: addressUsable(), sessionSeed };
    let result;
    try {
      result = translate(snapshot, options);
    } catch (e) {
      log(`portico run: translate failed (${keep}): ${(e as Error).stack ?? String(e)}`);
      return false;
    }
    let unbound;
    try {
      ({ result, unbound } = await applyTranslation(engine, translate, snapshot, options, result));
    } catch (e) {
      log(`portico run: ${(e as Error).message} (${keep})`);
      return false;
    }
    const seen = describeUnbound(unbound);
    if (unbound.length > 0) {
      // At startup with nothing at all to serve, fail loudly; otherwise serve the rest and retry.
      if (!current && result.ir.ports.length === 0) {
        log(`portico run: cannot listen on ${seen} (${keep})`);
        return false;
      }
      if (seen !== shownUnbound) log(`portico run: cannot listen on ${seen}: those listeners are not programmed; retrying every ${RETRY_UNBOUND_MS / 1000} s`);
      retry = setTimeout(() => {
        retry = undefined;
        onUpdate(latest ?? state, 'retrying the ports that could not be bound');
      }, RETRY_UNBOUND_MS);
    } else if (shownUnbound) log('portico run: every port is bound again');
    shownUnbound = seen;
    current = { ir: result.ir, statuses: result.statuses, problems: state.problems, generation: ++generation, ingresses: result.ingresses };
    // What did not convert (or is not served) from the Ingresses, said once per change.
    const ingressNow = new Set(ingressReportLines(result));
    for (const l of ingressNow) if (!shownIngress.has(l)) log(`portico run: ${l}`);
    shownIngress = ingressNow;
    cp.good();
    // Only the statuses that changed are looked at (report.ts); the same list (an EndpointSlice edit) is not at all.
    const changes = summary.update(result.statuses) ?? '  (statuses unchanged)';
    log(`${changes}\nlistening:\n${listening(result.ir) || '  (nothing: no programmed listeners)'}`);
    return true;
  };

  // Builds run one at a time; a burst of changes during an apply collapses into the latest.
  // The first build holds the same lock, so a change seen while it runs waits its turn.
  let pending: FileState | undefined;
  let pendingWhy = '';
  /** The first file event the pending state answers (performance.now()): a burst collapsed into one build keeps the earliest. */
  let pendingEventAt: number | undefined;
  let running = true;
  const drain = async () => {
    while (pending) {
      const s = pending;
      const eventAt = pendingEventAt;
      pending = undefined;
      pendingEventAt = undefined;
      log(`portico run: ${pendingWhy}, reloading (${s.byKey?.size ?? s.entries.length} objects)`);
      // As the controller logs it (controller/loop.ts): what the bench reads as the part of a change inside Portico.
      if ((await build(s)) && eventAt !== undefined) {
        const ms = performance.now() - eventAt;
        cp.servedAfter(ms);
        log(`portico run: serving ${ms.toFixed(1)} ms after the change event`);
      }
    }
    running = false;
  };
  const onUpdate = (state: FileState, why = 'change detected', eventAt?: number) => {
    latest = state;
    printProblems(state);
    pending = state;
    pendingWhy = why;
    if (eventAt !== undefined) pendingEventAt = Math.min(pendingEventAt ?? eventAt, eventAt);
    if (running) return;
    running = true;
    void drain();
  };

  const source = new FileSource(flags.paths, { onUpdate: (state, eventAt) => onUpdate(state, 'change detected', eventAt) });
  const first = await source.start();
  printProblems(first);
  log(`portico run: ${first.entries.length} objects from ${flags.paths.join(' ')} (controller ${flags.controllerName}, ${flags.workers} worker${flags.workers === 1 ? '' : 's'})`);
  if (!(await build(first))) {
    source.close();
    await engine.close(0).catch(() => undefined);
    return 1;
  }
  void drain();

  let admin: RunAdmin | undefined;
  let health: RunAdmin | undefined;
  const adminState = {
    ir: () => current?.ir,
    metrics: () => [cp.registry, engine],
    status: () => ({
      generation: current?.generation,
      statuses: current?.statuses ?? [],
      problems: (current?.problems ?? []).map((p) => ({ ...p, text: formatProblem(p) })),
      ...(current?.ingresses ? { ingresses: current.ingresses } : {}),
    }),
    dashboard: {
      mode: 'file' as const,
      ir: () => current?.ir,
      statuses: () => current?.statuses ?? [],
      problems: () => current?.problems ?? [],
      metrics: () => [cp.registry, engine],
    },
  };
  const url = (a: RunAdmin['address']) => `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  for (const [flag, listen] of [['--admin', flags.admin], ['--health', flags.health]] as const) {
    if (!listen) continue;
    try {
      if (flag === '--admin') {
        admin = await startRunAdmin(listen, adminState, { role: 'admin', allowRemote: flags.adminAllowRemote });
        log(`portico run: admin on ${url(admin.address)} (dashboard at /; /healthz /readyz /metrics /ir /status)`);
        const warning = checkAdminAddress(listen, flags.adminAllowRemote);
        if (warning) log(`portico run: ${warning}`);
      } else {
        health = await startRunAdmin(listen, adminState, { role: 'health' });
        log(`portico run: health on ${url(health.address)} (/healthz /readyz /metrics)`);
      }
    } catch (e) {
      log(`portico run: ${flag} ${listen}: ${(e as Error).message}`);
      source.close();
      await Promise.allSettled([engine.close(0), admin?.close()]);
      return 1;
    }
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log(`portico run: ${signal} again, exiting now`);
        process.exit(130);
      }
      stopping = true;
      log(`portico run: ${signal}: draining (up to ${flags.graceMs} ms)`);
      if (retry) clearTimeout(retry);
      source.close();
      void Promise.allSettled([engine.close(flags.graceMs), admin?.close(), health?.close()]).then((r) => {
        const failed = r.find((x) => x.status === 'rejected') as PromiseRejectedResult | undefined;
        if (failed) log(`portico run: shutdown: ${(failed.reason as Error)?.message ?? String(failed.reason)}`);
        resolve(failed ? 1 : 0);
      });
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
