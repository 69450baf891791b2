// `portico convert`: Ingress objects (files, stdin or the cluster) to Gateway API YAML on
// stdout, the conversion report on stderr (and as comments heading the YAML). --verify
// also checks that the output routes sample requests where ingress-nginx would.

import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import type { Resource } from '../api/types.js';
import { formatProblem, listFiles, parseText, type FileProblem } from '../sources/files.js';
import { convertIngresses, fullyConverted } from '../convert/index.js';
import type { ConfigMapLike, ConvertInput, Ingress, IngressClass } from '../convert/types.js';
import { reportComments, reportTable } from '../convert/report.js';

const USAGE = `usage: portico convert [FILE|DIR|-]... [flags]

Reads Ingress (networking.k8s.io/v1), IngressClass and ingress-nginx annotations and prints
the Gateway API objects that route the same way: one Gateway per IngressClass, HTTPRoutes per
host, GRPCRoutes, TLSRoutes, ReferenceGrants and BackendTLSPolicies where needed. Services and
ConfigMaps given alongside are read to resolve named ports and custom-headers.
The YAML goes to stdout; the report (per Ingress and annotation: converted, approximated and
how, or not converted and why) to stderr, and as comments at the top of the YAML.

  --from-cluster            read Ingresses, IngressClasses, Services and ConfigMaps from the
                            cluster in the kubeconfig (KUBECONFIG, ~/.kube/config or in-cluster)
  --http-port N             HTTP listener port (default 80)
  --https-port N            HTTPS/TLS listener port (default 443)
  --emit-gatewayclass       also print a GatewayClass per IngressClass (controllerName
                            portico.dev/gateway-controller, or --controller-name)
  --controller-name NAME    controllerName of emitted GatewayClasses
  --output yaml|json        output format (default yaml; json is a kind: List)
  --strict                  exit 1 when anything was approximated or not converted
  --verify                  send sample requests through ingress-nginx's documented semantics
                            and through the converted routes (Portico's translator and router);
                            print a pass/fail table to stderr; exit 1 when any differs
  -h, --help                this help
`;

export interface Loaded extends ConvertInput {
  ingresses: Ingress[];
  ingressClasses: IngressClass[];
  services: Resource[];
  configMaps: ConfigMapLike[];
}

function intFlag(v: string | undefined, name: string, def: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${name} must be a port number 1-65535 (got "${v}")`);
  return n;
}

function sortInto(out: Loaded, objects: unknown[]): void {
  for (const o of objects) {
    if (typeof o !== 'object' || o === null) continue;
    const r = o as Resource;
    if (!r.metadata?.name) continue;
    if (r.kind === 'Ingress') out.ingresses.push(r as Ingress);
    else if (r.kind === 'IngressClass') out.ingressClasses.push(r as IngressClass);
    else if (r.kind === 'Service') out.services.push(r);
    else if (r.kind === 'ConfigMap') out.configMaps.push(r as unknown as ConfigMapLike);
  }
}

export async function fromFiles(paths: string[], problems: FileProblem[]): Promise<Loaded> {
  const out: Loaded = { ingresses: [], ingressClasses: [], services: [], configMaps: [] };
  if (paths.includes('-')) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const { docs, syntax } = parseText(Buffer.concat(chunks).toString('utf8'), 'stdin');
    problems.push(...syntax);
    sortInto(out, docs.map((d) => d.value));
  }
  for (const f of await listFiles(paths.filter((p) => p !== '-'), problems)) {
    const { docs, syntax } = parseText(await readFile(f, 'utf8'), f);
    problems.push(...syntax);
    sortInto(out, docs.map((d) => d.value));
  }
  return out;
}

async function fromCluster(): Promise<Loaded> {
  const { KubeConfig } = await import('../sources/kubeconfig.js');
  const { ApiClient, ApiError } = await import('../sources/api-client.js');
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const client = new ApiClient(kc);
  // List items come without apiVersion and kind.
  const withKind = (items: object[], apiVersion: string, kind: string) => items.map((i) => ({ ...i, apiVersion, kind }));
  const list = async (path: string, apiVersion: string, kind: string) =>
    withKind((await client.json<{ items: object[] }>('GET', path, { timeoutMs: 60_000 })).items, apiVersion, kind);
  const [ings, classes, svcs] = await Promise.all([
    list('/apis/networking.k8s.io/v1/ingresses', 'networking.k8s.io/v1', 'Ingress'),
    list('/apis/networking.k8s.io/v1/ingressclasses', 'networking.k8s.io/v1', 'IngressClass'),
    list('/api/v1/services', 'v1', 'Service'),
  ]);
  const out: Loaded = { ingresses: [], ingressClasses: [], services: [], configMaps: [] };
  sortInto(out, ings);
  sortInto(out, classes);
  sortInto(out, svcs);
  // Only the ConfigMaps custom-headers names: a cluster's ConfigMaps can be many and large.
  const wanted = new Set<string>();
  for (const i of out.ingresses) {
    const v = i.metadata.annotations?.['nginx.ingress.kubernetes.io/custom-headers'];
    if (v) wanted.add(v.includes('/') ? v : `${i.metadata.namespace ?? 'default'}/${v}`);
  }
  for (const w of [...wanted].sort()) {
    const [namespace, name] = w.split('/', 2) as [string, string];
    try {
      const cm = await client.json<object>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`);
      sortInto(out, withKind([cm], 'v1', 'ConfigMap'));
    } catch (err) {
      // A missing one is reported by the converter as a ConfigMap that was not given.
      if (!(err instanceof ApiError) || err.statusCode !== 404) throw err;
    }
  }
  client.close();
  return out;
}

export async function convertCommand(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        'from-cluster': { type: 'boolean' },
        'http-port': { type: 'string' },
        'https-port': { type: 'string' },
        'emit-gatewayclass': { type: 'boolean' },
        'controller-name': { type: 'string' },
        output: { type: 'string', short: 'o' },
        strict: { type: 'boolean' },
        verify: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    process.stderr.write(`portico convert: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const output = (values.output as string | undefined) ?? 'yaml';
  let httpPort: number;
  let httpsPort: number;
  try {
    if (output !== 'yaml' && output !== 'json') throw new Error(`--output must be yaml or json (got "${output}")`);
    httpPort = intFlag(values['http-port'] as string | undefined, 'http-port', 80);
    httpsPort = intFlag(values['https-port'] as string | undefined, 'https-port', 443);
    if (positionals.length === 0 && !values['from-cluster']) throw new Error('name at least one file, folder or -, or use --from-cluster');
  } catch (e) {
    process.stderr.write(`portico convert: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }

  const problems: FileProblem[] = [];
  const input = values['from-cluster'] ? await fromCluster() : await fromFiles(positionals, problems);
  if (values['from-cluster'] && positionals.length > 0) {
    const extra = await fromFiles(positionals, problems);
    input.ingresses.push(...extra.ingresses);
    input.ingressClasses.push(...extra.ingressClasses);
    input.services.push(...extra.services);
    input.configMaps.push(...extra.configMaps);
  }
  for (const p of problems) process.stderr.write(`portico convert: ${p.severity}: ${formatProblem(p)}\n`);
  if (input.ingresses.length === 0) {
    process.stderr.write('portico convert: no Ingress found\n');
    return problems.some((p) => p.severity === 'error') ? 1 : 0;
  }
  const options = { httpPort, httpsPort, emitGatewayClass: Boolean(values['emit-gatewayclass']), controllerName: values['controller-name'] as string | undefined };
  const result = convertIngresses(input, options);

  if (output === 'json') process.stdout.write(JSON.stringify({ apiVersion: 'v1', kind: 'List', items: result.resources }, null, 2) + '\n');
  else process.stdout.write(reportComments(result.report) + result.resources.map((r) => `---\n${stringify(r, { lineWidth: 0, aliasDuplicateObjects: false })}`).join(''));
  process.stderr.write(reportTable(result.report));

  let code = problems.some((p) => p.severity === 'error') ? 1 : 0;
  if (values.strict && !fullyConverted(result.report)) {
    process.stderr.write('portico convert: --strict: not everything converted exactly (see the report)\n');
    code = 1;
  }
  if (values.verify) {
    const { verifyConversion, verifyTable } = await import('../convert/verify/index.js');
    const v = verifyConversion(input, result, options);
    process.stderr.write(verifyTable(v));
    if (v.some((r) => !r.pass)) code = 1;
  }
  return code;
}
