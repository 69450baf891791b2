// `portico dataplane`: one Gateway's data plane in Kubernetes. Holds no Kubernetes credentials:
// its config arrives from the controller over the config stream (src/sync/), authenticated by
// the Gateway's key from a mounted Secret. Ready only after its first config; on SIGTERM it
// turns readiness off and ends each keep-alive connection after its next response (HTTP/2:
// GOAWAY), keeps accepting for --drain-delay, then stops accepting, closes idle keep-alives and
// lets in-flight requests finish until --drain-timeout, and exits.

import { ACCESS_LOG_FLAGS, accessLogEngineOptions, accessLogFlagsUsage, accessLogSettings, type AccessLogSettings } from './access-log-flags.js';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import type { Engine } from '../dataplane/engine-api.js';
import type { IR } from '../ir/types.js';
import { scrubSecrets } from '../ir/redact.js';
import { metricsEndpoint } from '../observability/metrics/endpoint.js';
import { METRICS_FLAG, parseMetricsFlag } from './metrics-flag.js';
import { parseHostPort, startAdminServer, type AdminEndpoints, type AdminServer } from '../observability/admin.js';
import { SyncClient } from '../sync/client.js';
import { DEFAULT_CREDENTIALS_DIR, readGatewayKey } from '../sync/credentials.js';
import { PATH_FLAGS, pathEngineOptions, pathFlagsUsage, type PathEngineOptions } from './path-flags.js';

const USAGE = `usage: portico dataplane --controller HOST:PORT --gateway NAMESPACE/NAME [flags]

Serves one Gateway with the config the controller streams to it (portico controller provisions
a Deployment running this). Holds no Kubernetes credentials.

  --controller HOST:PORT   the controller's config stream (a Service in the controller's namespace)
  --gateway NS/NAME        the Gateway this data plane serves (its key's identity);
                           GatewayClass/NAME: every Gateway of that class (merged mode)
  --credentials DIR        folder holding "psk", the Gateway's key (a mounted Secret; default ${DEFAULT_CREDENTIALS_DIR})
  --health HOST:PORT       serve GET /healthz (live), /readyz (ready after the first config, not while draining)
                           and /metrics (Prometheus, every worker summed)
  --metrics on|off         count Prometheus metrics in the engine (default on)
  --drain-timeout D        on SIGTERM/SIGINT, at most this long until exit (default 35s)
  --drain-delay D          of which: keep accepting this long after readiness goes off, so endpoints
                           stop sending new connections (default 5s)
  --bind-address IP        listen on IP where the config says 0.0.0.0 or :: (pods sharing one network
                           namespace, as hack/podrunner.mjs runs them; default: as configured)
  --workers N              data-plane worker processes sharing the listeners (default 1)
  --pod NAME               reported to the controller with ACKs and NACKs (default $POD_NAME)
  --access-log             one JSON line per request on stdout (and per L4 connection or UDP session)
${accessLogFlagsUsage(24)}  --log-level L            error, warn, info (default) or debug
${pathFlagsUsage(24)}  -h, --help               this help
`;

export interface DataplaneFlags {
  controller: { host: string; port: number };
  gateway: string;
  credentials: string;
  health?: string;
  bindAddress?: string;
  drainTimeoutMs: number;
  drainDelayMs: number;
  workers: number;
  pod?: string;
  accessLog: boolean;
  /** --access-log-file/-fields/-format/-sample, --request-id (absent: defaults). */
  log?: AccessLogSettings;
  /** --metrics off: false; absent = on (the default). */
  metrics?: false;
  logLevel: LogLevel;
  path: PathEngineOptions;
}

const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** "35s", "500ms", "1m" or a bare number of seconds. */
function duration(s: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(s.trim());
  if (!m) throw new Error(`${flag} "${s}": expected a duration such as 35s, 500ms or 1m`);
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] ?? 's']!);
}

export function parseDataplaneArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): DataplaneFlags | { help: true } | { error: string } {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        controller: { type: 'string' },
        gateway: { type: 'string' },
        credentials: { type: 'string' },
        health: { type: 'string' },
        'bind-address': { type: 'string' },
        'drain-timeout': { type: 'string' },
        'drain-delay': { type: 'string' },
        workers: { type: 'string' },
        pod: { type: 'string' },
        'access-log': { type: 'boolean' },
        ...ACCESS_LOG_FLAGS,
        'log-level': { type: 'string' },
        ...METRICS_FLAG,
        ...PATH_FLAGS,
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return { help: true };
    if (!values.controller) return { error: '--controller HOST:PORT is required' };
    // GatewayClass/NAME: a merged data plane serving every Gateway of the class (no namespace is capitalized).
    if (!values.gateway || !/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?|GatewayClass)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(values.gateway))
      return { error: `--gateway must be NAMESPACE/NAME or GatewayClass/NAME (got "${values.gateway ?? ''}")` };
    const controller = parseHostPort(values.controller, '--controller', '');
    if (!controller.host || controller.port === 0) return { error: `--controller "${values.controller}": expected HOST:PORT` };
    if (values.health) parseHostPort(values.health, '--health');
    if (values['bind-address'] !== undefined && isIP(values['bind-address']) === 0) return { error: `--bind-address "${values['bind-address']}": expected an IP address` };
    const drainTimeoutMs = duration(values['drain-timeout'] ?? '35s', '--drain-timeout');
    const drainDelayMs = duration(values['drain-delay'] ?? '5s', '--drain-delay');
    if (drainDelayMs > drainTimeoutMs) return { error: `--drain-delay (${drainDelayMs} ms) must not exceed --drain-timeout (${drainTimeoutMs} ms)` };
    const workers = Number(values.workers ?? '1');
    if (!Number.isInteger(workers) || workers < 1 || workers > 256) return { error: `--workers must be a whole number from 1 to 256 (got "${values.workers}")` };
    const log = accessLogSettings(values as Record<string, string | boolean | undefined>);
    const logLevel = (values['log-level'] ?? 'info') as LogLevel;
    if (!LOG_LEVELS.includes(logLevel)) return { error: `--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")` };
    return {
      controller,
      gateway: values.gateway,
      credentials: values.credentials ?? DEFAULT_CREDENTIALS_DIR,
      ...(values.health ? { health: values.health } : {}),
      ...(values['bind-address'] ? { bindAddress: values['bind-address'] } : {}),
      drainTimeoutMs,
      drainDelayMs,
      workers,
      ...((values.pod ?? env.POD_NAME) ? { pod: values.pod ?? env.POD_NAME } : {}),
      accessLog: values['access-log'] === true,
      ...(Object.keys(log).length ? { log } : {}),
      ...(parseMetricsFlag(values.metrics) ? {} : { metrics: false as const }),
      logLevel,
      path: pathEngineOptions(values),
    };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The IR with wildcard listen addresses replaced by `address` (Port names kept: they key sockets and ACKs). */
export function bindTo(ir: IR, address: string | undefined): IR {
  if (!address) return ir;
  return { ...ir, ports: ir.ports.map((p) => (p.address === '0.0.0.0' || p.address === '::' ? { ...p, address } : p)) };
}

const listening = (ir: IR): string => ir.ports.map((p) => `${p.protocol} ${p.address}:${p.port}`).join(', ') || 'nothing';

export async function dataplaneCommand(argv: string[]): Promise<number> {
  const flags = parseDataplaneArgs(argv);
  if ('help' in flags) {
    process.stdout.write(USAGE);
    return 0;
  }
  if ('error' in flags) {
    process.stderr.write(`portico dataplane: ${flags.error}\n\n${USAGE}`);
    return 2;
  }
  const shown = LOG_LEVELS.indexOf(flags.logLevel);
  const logAt = (level: LogLevel, t: string): void => {
    if (LOG_LEVELS.indexOf(level) <= shown) process.stderr.write(`portico dataplane: ${scrubSecrets(t)}\n`);
  };
  const log = (t: string): void => logAt('info', t);
  // Loaded here, not through ./pipeline.js, which also reaches the translator: this command needs the engine alone.
  const { createEngine } = await import('../dataplane/engine.js');
  const engine: Engine = createEngine({
    workers: flags.workers,
    metrics: flags.metrics,
    ...flags.path,
    ...accessLogEngineOptions(flags.accessLog, flags.log),
  });
  let ready = false;
  let draining = false;

  let health: AdminServer | undefined;
  if (flags.health) {
    const endpoints: AdminEndpoints = {
      '/healthz': () => ({ body: 'ok\n' }),
      '/readyz': () =>
        draining ? { code: 503, body: 'draining\n' } : ready ? { body: 'ok\n' } : { code: 503, body: 'waiting for the first config from the controller\n' },
      '/metrics': metricsEndpoint([engine]),
    };
    try {
      health = await startAdminServer(flags.health, endpoints, { role: 'health' });
    } catch (e) {
      log(`--health ${flags.health}: ${(e as Error).message}`);
      await engine.close(0).catch(() => undefined);
      return 1;
    }
    log(`health on ${health.address.address}:${health.address.port} (/healthz /readyz /metrics)`);
  }

  const client = new SyncClient({
    host: flags.controller.host,
    port: flags.controller.port,
    gateway: flags.gateway,
    ...(flags.pod ? { pod: flags.pod } : {}),
    key: () => readGatewayKey(flags.credentials),
    log: logAt,
    apply: async (received, v) => {
      const ir = bindTo(received, flags.bindAddress);
      const result = await engine.apply(ir);
      ready = true;
      const unbound = result.unbound.map((u) => `${u.port} (${u.error})`).join(', ');
      log(`applied version ${v.version} (epoch ${v.epoch}, config ${v.hash}): listening on ${listening(ir)}${unbound ? `; cannot listen on ${unbound}` : ''}`);
      return result;
    },
  });
  log(`Gateway ${flags.gateway}: connecting to the controller at ${flags.controller.host}:${flags.controller.port}`);
  client.start();

  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      if (draining) {
        log(`${signal} again, exiting now`);
        process.exit(130);
      }
      draining = true;
      const started = Date.now();
      // Still accepting, but keep-alive connections end after their next response: clients
      // reconnect through the Service to other pods while this one answers.
      engine.drain?.();
      log(`${signal}: readiness off, keep-alive connections closing after their next response; serving ${flags.drainDelayMs} ms more, then draining (exit within ${flags.drainTimeoutMs} ms)`);
      setTimeout(() => {
        const left = Math.max(0, flags.drainTimeoutMs - (Date.now() - started));
        // The engine stops accepting at once (an apply in progress finishes first: close() waits
        // for it); the stream stops; the health listener answers (/readyz 503) until the end.
        const engineClosed = engine.close(left);
        log(`draining: no new connections, idle keep-alives closed, in-flight requests finishing (up to ${left} ms)`);
        void (async () => {
          const r = await Promise.allSettled([client.close(), engineClosed]);
          r.push(...(await Promise.allSettled([health?.close()])));
          const failed = r.find((x) => x.status === 'rejected') as PromiseRejectedResult | undefined;
          if (failed) log(`shutdown: ${(failed.reason as Error)?.message ?? String(failed.reason)}`);
          log('drained, exiting');
          resolve(failed ? 1 : 0);
        })();
      }, flags.drainDelayMs);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}
