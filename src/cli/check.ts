// `portico check <paths...>`: what the translator decides for these manifests, as condition
// tables (or as the objects with the .status Kubernetes would store). Exits 1 when any
// object is invalid or any Accepted/ResolvedRefs/Programmed condition is not True, so it
// can gate a merge. Exit 2 is a usage error.

import { parseArgs } from 'node:util';
import { DEFAULT_CONTROLLER_NAME, Kind } from '../api/names.js';
import type { GatewayClass } from '../api/types.js';
import type { GatewayParameters } from '../api/gatewayparameters.js';
import { mergesGateways } from '../provision/parameters.js';
import { Snapshot } from '../store/snapshot.js';
import { formatProblem, loadPaths } from '../sources/files.js';
import { isBad, readerOrder, renderConditions, renderYaml, rowsOf, unmanaged } from './report.js';
import { loadTranslate } from './pipeline.js';
import { scrubSecrets } from '../ir/redact.js';
import { INGRESS_FLAGS, ingressFlagsUsage, ingressServeOptions, renderIngresses } from './ingress-flags.js';
import { serveIngresses, type IngressServeOptions } from '../convert/serve.js';

const USAGE = `usage: portico check <file|folder|->... [flags]

Reads Gateway API manifests (.yaml, .yml, .json; folders recursively), validates them and
prints, for each GatewayClass, Gateway, route and policy, its conditions (type, status,
reason, message). Exits 1 when an object is invalid or a condition Accepted, ResolvedRefs
or Programmed is not True. '-' reads manifests from standard input
(e.g. kubectl kustomize overlays/prod | portico check -).

  --output table|yaml        table (default), or the objects with the .status Kubernetes would store
  --controller-name NAME     GatewayClass controllerName to act for (default ${DEFAULT_CONTROLLER_NAME})
  --dataplane MODE           in-process (default): one data plane serves every Gateway, so Gateways
                             sharing a port conflict; provisioned: each Gateway has its own
                             (portico controller --dataplane provisioned), conflicts are per Gateway,
                             or per GatewayClass when its GatewayParameters (in the files) set
                             mergeGateways
${ingressFlagsUsage(26)}  -h, --help                 this help
`;

export async function checkCommand(argv: string[]): Promise<number> {
  let values: { output?: string; 'controller-name'?: string; dataplane?: string; help?: boolean; 'ingress-controller'?: string; 'ingress-gateway'?: string; 'ingress-http-port'?: string; 'ingress-https-port'?: string };
  let ingress: IngressServeOptions | undefined;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { output: { type: 'string', short: 'o' }, 'controller-name': { type: 'string' }, dataplane: { type: 'string' }, ...INGRESS_FLAGS, help: { type: 'boolean', short: 'h' } },
    }));
    ingress = ingressServeOptions(values);
  } catch (e) {
    process.stderr.write(`portico check: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const output = values.output ?? 'table';
  if (output !== 'table' && output !== 'yaml') {
    process.stderr.write(`portico check: --output must be table or yaml (got "${output}")\n`);
    return 2;
  }
  const dataplane = values.dataplane ?? 'in-process';
  if (dataplane !== 'in-process' && dataplane !== 'provisioned') {
    process.stderr.write(`portico check: --dataplane must be in-process or provisioned (got "${dataplane}")\n`);
    return 2;
  }
  if (positionals.length === 0) {
    process.stderr.write(`portico check: name at least one file or folder\n\n${USAGE}`);
    return 2;
  }

  let stdin: string | undefined;
  if (positionals.includes('-')) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    stdin = Buffer.concat(chunks).toString('utf8');
  }
  const state = await loadPaths(positionals, stdin);
  const snapshot = new Snapshot(state.entries);
  const rawTranslate = await loadTranslate();
  // Ingresses of Portico's IngressClasses are checked as `run` and `controller` would serve them.
  const translate = ingress ? serveIngresses(rawTranslate, ingress) : rawTranslate;
  const controllerName = values['controller-name'] ?? DEFAULT_CONTROLLER_NAME;
  const result = translate(snapshot, {
    controllerName,
    addressFor: () => '0.0.0.0',
    dataPlanes: dataplane === 'provisioned' ? 'per-gateway' : 'shared',
    ...(dataplane === 'provisioned' ? { mergedGatewayClasses: mergedClasses(snapshot, controllerName) } : {}),
  });

  const errors = state.problems.filter((p) => p.severity === 'error');
  const failing = result.statuses.filter((s) => rowsOf(s).some(isBad));
  // An Ingress nothing serves (no such Gateway, a host no listener takes) fails the check;
  // annotations that did not convert are reported, not failed (`portico convert --strict` does that).
  const unserved = (result.ingresses?.report ?? []).filter((e) => e.status === 'not-converted' && (e.item === 'served' || /^(HTTP|GRPC|TLS)Route /.test(e.item)));

  if (output === 'yaml') {
    // Scrubbed like everything Portico prints (ir/redact.ts): no key material, whatever the input held.
    process.stdout.write(scrubSecrets(renderYaml(snapshot, result.statuses, new Date())));
    for (const p of state.problems) process.stderr.write(`${scrubSecrets(formatProblem(p))}\n`);
  } else {
    const out: string[] = [];
    for (const s of readerOrder(result.statuses.filter((x) => x.kind !== 'Ingress'))) {
      out.push(renderConditions(s, snapshot.origin(s.kind, s.namespace, s.name)));
    }
    const ignored = unmanaged(snapshot, result.statuses);
    if (ignored.length > 0)
      out.push(`Not handled by controller ${values['controller-name'] ?? DEFAULT_CONTROLLER_NAME} (no GatewayClass of it, or no parentRef to its Gateways):\n${ignored.map((l) => `  ${l}`).join('\n')}`);
    if (result.ingresses) out.push(renderIngresses(result, (ns, name) => snapshot.origin('Ingress', ns, name)));
    if (state.problems.length > 0) out.push(`Problems:\n${state.problems.map((p) => `  ${p.severity === 'error' ? 'error' : 'warning'}: ${formatProblem(p)}`).join('\n')}`);
    const verdict =
      errors.length === 0 && failing.length === 0 && unserved.length === 0
        ? `OK: ${result.statuses.length} object${result.statuses.length === 1 ? '' : 's'} checked, all Accepted/ResolvedRefs/Programmed`
        : `FAILED: ${failing.length} object${failing.length === 1 ? '' : 's'} with a condition not True, ${errors.length} invalid manifest problem${errors.length === 1 ? '' : 's'}${unserved.length ? `, ${unserved.length} Ingress host${unserved.length === 1 ? '' : 's'} not served` : ''}`;
    out.push(verdict);
    process.stdout.write(scrubSecrets(out.join('\n\n')) + '\n');
  }
  return errors.length === 0 && failing.length === 0 && unserved.length === 0 ? 0 : 1;
}

/**
 * GatewayClasses whose GatewayParameters (spec.parametersRef, read from the same files) set
 * mergeGateways: their Gateways share one provisioned data plane, so their listeners conflict
 * as the controller reports them (controller/provision-plan.ts mergedClassesOf, without the
 * Helm-values defaults, which check cannot see).
 */
function mergedClasses(snapshot: Snapshot, controllerName: string): ReadonlySet<string> {
  const find = (namespace: string, name: string) => snapshot.get<GatewayParameters>(Kind.GatewayParameters, namespace, name);
  return new Set(
    snapshot
      .list<GatewayClass>(Kind.GatewayClass)
      .filter((gc) => gc.spec?.controllerName === controllerName && mergesGateways(gc, find))
      .map((gc) => gc.metadata.name),
  );
}
