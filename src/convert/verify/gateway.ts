// The converted routes' side of --verify: Portico's own translator and router decide, not a
// second model. The converted objects of one Gateway go into a Snapshot with a GatewayClass
// for Portico and a Service per backendRef; HTTPS listeners are served as plain HTTP on the
// same port (routing within a port is by Host, the certificate does not change where a
// request goes), TLS passthrough listeners and BackendTLSPolicies are left out (they do not
// route HTTP requests).

import type { Resource } from '../../api/types.js';
import { DEFAULT_CONTROLLER_NAME, GATEWAY_GROUP } from '../../api/names.js';
import type { HTTPFilter, IR } from '../../ir/types.js';
import { Snapshot, type Entry } from '../../store/snapshot.js';
import { translate } from '../../translate/index.js';
import { PortRouter } from '../../dataplane/router/tables.js';
import { modifyPath } from '../../dataplane/filters/path-modifier.js';
import { redirectLocation } from '../../dataplane/filters/redirect.js';
import { applyDefaults } from '../../api/validate.js';
import type { Outcome, SampleRequest } from './types.js';

export class GatewayModel {
  private readonly ir: IR;
  private readonly routers = new Map<number, PortRouter>();

  constructor(
    resources: readonly Resource[],
    private readonly httpPort: number,
    private readonly httpsPort: number,
  ) {
    const entries: Entry[] = [];
    const services = new Map<string, Set<number>>();
    const add = (r: Resource) => entries.push({ resource: applyDefaults({ ...r, metadata: { generation: 1, ...r.metadata } }) as Resource, origin: 'convert' });
    for (const r of resources) {
      if (r.kind === 'BackendTLSPolicy' || r.kind === 'TLSRoute' || r.kind === 'GatewayClass') continue;
      if (r.kind === 'Gateway') {
        const spec = r.spec as { gatewayClassName: string; listeners: { protocol: string; tls?: unknown }[] };
        const listeners = spec.listeners.filter((l) => l.protocol !== 'TLS').map(({ tls: _t, ...l }) => ({ ...l, protocol: 'HTTP' }));
        add({ ...r, spec: { ...spec, listeners } });
        add({ apiVersion: `${GATEWAY_GROUP}/v1`, kind: 'GatewayClass', metadata: { name: spec.gatewayClassName }, spec: { controllerName: DEFAULT_CONTROLLER_NAME } });
        continue;
      }
      add(r);
      const spec = r.spec as { rules?: { backendRefs?: { name: string; namespace?: string; port?: number }[] }[] };
      for (const rule of spec.rules ?? [])
        for (const b of rule.backendRefs ?? []) {
          const k = `${b.namespace ?? r.metadata.namespace ?? 'default'}/${b.name}`;
          if (!services.has(k)) services.set(k, new Set());
          if (b.port !== undefined) services.get(k)!.add(b.port);
        }
    }
    for (const [k, ports] of services) {
      const [namespace, name] = k.split('/') as [string, string];
      add({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [...ports].sort((a, b) => a - b).map((port) => ({ name: `p${port}`, port })) } });
    }
    this.ir = translate(new Snapshot(entries), { controllerName: DEFAULT_CONTROLLER_NAME, addressFor: () => '0.0.0.0' }).ir;
  }

  private router(port: number): PortRouter | undefined {
    let r = this.routers.get(port);
    if (!r) {
      const p = this.ir.ports.find((x) => x.port === port && x.protocol === 'HTTP');
      if (!p) return undefined;
      this.routers.set(port, (r = new PortRouter(p)));
    }
    return r;
  }

  route(req: SampleRequest): Outcome {
    const port = req.scheme === 'https' ? this.httpsPort : this.httpPort;
    const router = this.router(port);
    if (!router) return { kind: 'not-found' };
    const headers: string[] = [];
    for (const [k, v] of Object.entries(req.headers)) headers.push(k.toLowerCase(), v);
    const entry = router.route(req.host, { method: 'GET', path: req.path, query: '', headers });
    if (!entry) return { kind: 'not-found' };
    let path = req.path;
    let host = req.host;
    for (const f of entry.filters as HTTPFilter[]) {
      if (f.type === 'RequestRedirect')
        return { kind: 'redirect', status: f.statusCode, location: redirectLocation(f, { scheme: req.scheme, host: req.host, listenerPort: port, path: req.path, query: '', match: entry.match }) };
      if (f.type === 'URLRewrite') {
        if (f.path) path = modifyPath(req.path, f.path, entry.match);
        if (f.hostname) host = f.hostname;
      }
    }
    const live = entry.backends.filter((b) => b.weight > 0);
    if (live.length === 0) return { kind: 'error', reason: 'no backendRefs (500)' };
    const total = live.reduce((s, b) => s + b.weight, 0);
    const backends: Record<string, number> = {};
    for (const b of live) {
      if (!b.cluster) return { kind: 'error', reason: b.invalid?.reason ?? 'invalid backend' };
      const svc = b.cluster.replace(/\/tls$/, '');
      backends[svc] = (backends[svc] ?? 0) + b.weight / total;
    }
    return { kind: 'backend', backends, path, host };
  }
}
