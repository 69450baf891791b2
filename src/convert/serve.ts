// Serving Ingress objects directly (issue 14, "coexistence"): the Ingresses of every
// IngressClass whose spec.controller is Portico's go through convertIngresses() and the
// Gateway API objects it produces join the snapshot the translator reads, next to the
// user's own. Nothing here knows the data plane; the translator sees ordinary objects.
//
// Where the converted objects go (docs/migration.md, "Serve both"):
//   - default: one Gateway per IngressClass, named `portico-ingress-<class>` (GatewayClass
//     of the same name, for the translator's controllerName), listening on --ingress-http-port
//     and --ingress-https-port (80/443), with the Ingress spec.tls certificates;
//   - `--ingress-gateway ns/name`: no Gateway is generated, every converted route attaches to
//     that (user's) Gateway by port. This is what side-by-side migration wants on one port:
//     two Gateways on one address and port conflict in a shared data plane (the oldest keeps
//     it), while one Gateway carries both the Ingress hosts and the new HTTPRoutes, each
//     hostname ranked by the usual Gateway API precedence.
// Every generated object is named `portico-ingress-<converted name>`; that prefix is
// reserved: a user object with the same kind/namespace/name wins and the clash is reported.
// The generated objects are never written anywhere: their statuses are dropped, each served
// Ingress gets status.loadBalancer from the Gateway serving it, and route problems come back
// as report lines on the Ingresses they came from.

import { applyDefaults } from '../api/validate.js';
import { DEFAULT_CONTROLLER_NAME, GATEWAY_GROUP, INGRESS_GENERATED_LABEL, Kind, ROUTE_KINDS } from '../api/names.js';
import type { ParentReference, Resource } from '../api/types.js';
import { keyOf, Snapshot, type Entry } from '../store/snapshot.js';
import type { ObjectStatus, TranslateOptions, TranslateResult, ServedIngress } from '../translate/types.js';
import { convertIngresses } from './index.js';
import { classOf, idOf, nsOf } from './ingress.js';
import type { ConfigMapLike, Ingress, IngressClass, ReportEntry } from './types.js';

export const GENERATED_PREFIX = 'portico-ingress-';

export interface IngressServeOptions {
  /** IngressClass spec.controller whose Ingresses are served. Default portico.dev/ingress-controller. */
  ingressController: string;
  /** Ports of the generated Gateways' listeners (defaults 80 and 443, as `portico convert`). */
  httpPort?: number;
  httpsPort?: number;
  /** Attach the converted routes to this Gateway instead of generating one per IngressClass. */
  gateway?: { namespace: string; name: string };
}

export interface IngressHandOff {
  /** Converted objects, renamed, defaulted, minus those a user object already holds the name of. */
  resources: Resource[];
  served: ServedIngress[];
  report: ReportEntry[];
}

type TranslateFn = (snapshot: Snapshot, options: TranslateOptions) => TranslateResult;

const ROUTES: ReadonlySet<string> = new Set(ROUTE_KINDS);
const MUST_BE_TRUE: ReadonlySet<string> = new Set(['Accepted', 'ResolvedRefs', 'Programmed']);

/** `ns/name` -> { namespace, name }; undefined when it is not that shape. */
export function parseGatewayRef(text: string): { namespace: string; name: string } | undefined {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(text);
  return m ? { namespace: m[1]!, name: m[3]! } : undefined;
}

/** The Ingresses Portico serves and the Gateway API objects they become. Pure. */
export function ingressHandOff(snapshot: Snapshot, options: IngressServeOptions, controllerName: string): IngressHandOff {
  const classes = snapshot.list<IngressClass>(Kind.IngressClass);
  const ours = new Set(classes.filter((c) => c.spec?.controller === options.ingressController).map((c) => c.metadata.name));
  if (ours.size === 0) return { resources: [], served: [], report: [] };
  // No fallback class name: an Ingress without a class is ours only through the default-class annotation.
  const classOpts = { defaultIngressClass: '' };
  const ingresses = snapshot.list<Ingress>(Kind.Ingress).filter((i) => ours.has(classOf(i, classes, classOpts)));
  if (ingresses.length === 0) return { resources: [], served: [], report: [] };

  const gw = options.gateway;
  const httpPort = options.httpPort ?? 80;
  const httpsPort = options.httpsPort ?? 443;
  const converted = convertIngresses(
    { ingresses, ingressClasses: classes, services: snapshot.list(Kind.Service), configMaps: snapshot.list<ConfigMapLike>(Kind.ConfigMap) },
    { httpPort, httpsPort, emitGatewayClass: !gw, controllerName, ...classOpts },
  );
  const report = [...converted.report];

  // Listener name -> port of each generated Gateway: with --ingress-gateway, routes attach by port.
  const listenerPorts = new Map<string, number>();
  const generatedGateway = new Map<string, { namespace: string; name: string }>(); // class -> Gateway
  for (const r of converted.resources) {
    if (r.kind !== Kind.Gateway) continue;
    const cls = (r.spec as { gatewayClassName: string }).gatewayClassName;
    generatedGateway.set(cls, { namespace: nsOf(r), name: GENERATED_PREFIX + r.metadata.name });
    for (const l of (r.spec as { listeners: { name: string; port: number }[] }).listeners) listenerPorts.set(`${nsOf(r)}/${r.metadata.name}/${l.name}`, l.port);
  }

  const served: ServedIngress[] = ingresses.map((i) => {
    const className = classOf(i, classes, classOpts);
    return { namespace: nsOf(i), name: i.metadata.name, className, gateway: gw ?? generatedGateway.get(className)! };
  });

  const rename = (n: string) => GENERATED_PREFIX + n;
  const resources: Resource[] = [];
  for (const r of converted.resources) {
    if (gw && (r.kind === Kind.GatewayClass || r.kind === Kind.Gateway)) continue;
    let spec = r.spec as Record<string, unknown>;
    if (r.kind === Kind.Gateway) spec = { ...spec, gatewayClassName: rename(spec.gatewayClassName as string) };
    else if (ROUTES.has(r.kind)) spec = { ...spec, parentRefs: (spec.parentRefs as ParentReference[]).map((p) => parentOf(p, nsOf(r), gw, listenerPorts)) };
    else if (r.kind === Kind.ReferenceGrant && gw && (spec.from as { kind: string }[]).every((f) => f.kind === Kind.Gateway)) continue; // certificates stay the user Gateway's
    const labels = { ...r.metadata.labels, [INGRESS_GENERATED_LABEL]: 'true' };
    const out = applyDefaults({ ...r, metadata: { ...r.metadata, name: rename(r.metadata.name), generation: 1, labels }, spec });
    const clash = snapshot.get(out.kind, out.metadata.namespace, out.metadata.name);
    if (clash) {
      for (const s of served)
        report.push({ ingress: `${s.namespace}/${s.name}`, item: `${out.kind} ${out.metadata.namespace ? `${out.metadata.namespace}/` : ''}${out.metadata.name}`, status: 'not-converted', message: `the name is reserved for objects generated from Ingresses, but one of yours holds it: yours is used, rename it` });
      continue;
    }
    resources.push(out);
  }
  if (gw)
    for (const i of ingresses)
      if ((i.spec?.tls ?? []).length > 0)
        report.push({ ingress: idOf(i), item: 'spec.tls', status: 'approximated', message: `HTTPS is served by the port ${httpsPort} listeners of Gateway ${gw.namespace}/${gw.name} with their own certificateRefs; this Ingress's secretName is not used` });
  return { resources, served, report };
}

function parentOf(p: ParentReference, routeNs: string, gw: IngressServeOptions['gateway'], ports: ReadonlyMap<string, number>): ParentReference {
  if (!gw) return { ...p, name: GENERATED_PREFIX + p.name };
  const port = ports.get(`${p.namespace ?? routeNs}/${p.name}/${p.sectionName ?? ''}`);
  // By port, not sectionName: the user's Gateway names its listeners its own way.
  return { group: GATEWAY_GROUP, kind: Kind.Gateway, namespace: gw.namespace, name: gw.name, ...(port !== undefined ? { port } : {}) };
}

const sameList = (a: readonly Entry[] | undefined, b: readonly Entry[]): boolean => a !== undefined && a.length === b.length && a.every((e, i) => e === b[i]);
const INPUT_KINDS = [Kind.Ingress, Kind.IngressClass, Kind.Service, Kind.ConfigMap] as const;

/**
 * `translate` that also serves Ingresses. The hand-off is redone only when an Ingress,
 * IngressClass, Service or ConfigMap entry changed, and a generated object equal to the last
 * one keeps its identity, so translate/incremental.ts sees only what really moved.
 */
export function serveIngresses(translate: TranslateFn, options: IngressServeOptions): TranslateFn {
  let lastInputs: (readonly Entry[])[] | undefined;
  let lastController: string | undefined;
  let last: { handOff: IngressHandOff; entries: Entry[] } | undefined;
  const previous = new Map<string, { text: string; entry: Entry }>();

  const handOff = (snapshot: Snapshot, controllerName: string) => {
    const inputs = INPUT_KINDS.map((k) => snapshot.entries(k));
    if (last && lastController === controllerName && lastInputs && inputs.every((l, i) => sameList(lastInputs![i], l))) return last;
    const h = ingressHandOff(snapshot, options, controllerName);
    const entries: Entry[] = [];
    const seen = new Set<string>();
    for (const r of h.resources) {
      const key = keyOf(r.kind, r.metadata.namespace, r.metadata.name);
      const text = JSON.stringify(r);
      const prev = previous.get(key);
      const entry = prev && prev.text === text ? prev.entry : { resource: r, origin: 'generated from Ingress' };
      previous.set(key, { text, entry });
      seen.add(key);
      entries.push(entry);
    }
    for (const k of [...previous.keys()]) if (!seen.has(k)) previous.delete(k);
    lastInputs = inputs;
    lastController = controllerName;
    last = { handOff: h, entries };
    return last;
  };

  return (snapshot, translateOptions) => {
    const { handOff: h, entries } = handOff(snapshot, translateOptions.controllerName ?? DEFAULT_CONTROLLER_NAME);
    if (h.served.length === 0) return translate(snapshot, translateOptions);
    const augmented = new Snapshot([...snapshot.byKeys().values(), ...entries]);
    return withIngressStatuses(translate(augmented, translateOptions), h, new Set(entries.map((e) => keyOf(e.resource.kind, e.resource.metadata.namespace, e.resource.metadata.name))), augmented);
  };
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** The translator's result with the generated objects' statuses swapped for the served Ingresses'. `snapshot`: the one translated (generated objects included). */
export function withIngressStatuses(result: TranslateResult, h: IngressHandOff, generated: ReadonlySet<string>, snapshot: Snapshot): TranslateResult {
  const statuses: ObjectStatus[] = [];
  const gatewayStatus = new Map<string, ObjectStatus>();
  const report = [...h.report];
  for (const s of result.statuses) {
    if (s.kind === Kind.Gateway) gatewayStatus.set(`${s.namespace}/${s.name}`, s);
    if (!generated.has(keyOf(s.kind, s.namespace, s.name))) {
      statuses.push(s);
      continue;
    }
    if (s.kind === Kind.Gateway) {
      // A generated Gateway that cannot take its port (say, a Gateway of yours listens there): say so.
      const listeners = (s.status as { listeners?: { name: string; conditions?: Condition[] }[] }).listeners ?? [];
      for (const l of listeners) {
        const bad = (l.conditions ?? []).find((c) => (MUST_BE_TRUE.has(c.type) && c.status !== 'True') || (c.type === 'Conflicted' && c.status === 'True'));
        if (!bad) continue;
        for (const i of h.served)
          if (i.gateway.namespace === s.namespace && i.gateway.name === s.name)
            report.push({ ingress: `${i.namespace}/${i.name}`, item: 'served', status: 'not-converted', message: `listener ${l.name} of Gateway ${s.namespace}/${s.name}: ${bad.type} ${bad.status} ${bad.reason ?? ''}: ${bad.message ?? ''}`.trim() });
      }
      continue;
    }
    if (!ROUTES.has(s.kind)) continue;
    // A generated route a Gateway did not take: say so on the Ingresses of its host.
    const route = snapshot.get(s.kind, s.namespace, s.name);
    const host = ((route?.spec as { hostnames?: string[] } | undefined)?.hostnames ?? [])[0] ?? '';
    const parents = (s.status as { parents?: { conditions?: Condition[] }[] }).parents ?? [];
    const bad = parents.flatMap((p) => p.conditions ?? []).find((c) => MUST_BE_TRUE.has(c.type) && c.status !== 'True');
    if (!bad) continue;
    for (const i of h.served) {
      const ing = snapshot.get<Ingress>(Kind.Ingress, i.namespace, i.name);
      if (i.namespace !== s.namespace || !ing || !hostsOf(ing).includes(host)) continue;
      report.push({ ingress: `${i.namespace}/${i.name}`, item: `${s.kind} ${s.name}`, status: 'not-converted', message: `host ${host || '(any)'} is not served: ${bad.type} ${bad.status} ${bad.reason ?? ''}: ${bad.message ?? ''}`.trim() });
    }
  }
  for (const i of h.served) {
    const gw = gatewayStatus.get(`${i.gateway.namespace}/${i.gateway.name}`);
    const addresses = ((gw?.status as { addresses?: { type?: string; value: string }[] } | undefined)?.addresses ?? []).map((a) =>
      a.type === 'Hostname' ? { hostname: a.value } : { ip: a.value },
    );
    if (!gw) report.push({ ingress: `${i.namespace}/${i.name}`, item: 'served', status: 'not-converted', message: `Gateway ${i.gateway.namespace}/${i.gateway.name} does not exist or is not Portico's: nothing serves this Ingress` });
    const ing = snapshot.get<Ingress>(Kind.Ingress, i.namespace, i.name);
    statuses.push({
      kind: Kind.Ingress,
      namespace: i.namespace,
      name: i.name,
      ...(ing?.metadata.generation !== undefined ? { generation: ing.metadata.generation } : {}),
      status: { loadBalancer: addresses.length > 0 ? { ingress: addresses } : {} },
    });
  }
  statuses.sort((a, b) => (a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : `${a.namespace ?? ''}/${a.name}` < `${b.namespace ?? ''}/${b.name}` ? -1 : 1));
  report.sort((a, b) => (a.ingress < b.ingress ? -1 : a.ingress > b.ingress ? 1 : a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
  return { ...result, statuses, ingresses: { served: h.served, report } };
}

/** Hosts of an Ingress's rules ('' for a rule without host or a defaultBackend). */
function hostsOf(i: Ingress): string[] {
  const out = (i.spec?.rules ?? []).map((r) => r.host ?? '');
  if (i.spec?.defaultBackend) out.push('');
  return out;
}

/** One line per report entry that is not a plain "converted": `Ingress ns/name: item: status: message` (logs, `portico run`). */
export function ingressReportLines(result: Pick<TranslateResult, 'ingresses'>): string[] {
  return (result.ingresses?.report ?? []).filter((e) => e.status !== 'converted').map((e) => `Ingress ${e.ingress}: ${e.item}: ${e.status}: ${e.message}`);
}
