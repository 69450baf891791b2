// ingress-nginx's routing, modelled from its documentation and templates, independent of
// the converter: servers by host (exact, then wildcard, then the catch-all "_"), locations
// (Exact "= p"; Prefix "= p" plus "p/"; ImplementationSpecific "p"; regex mode "~* ^p"
// tried longest path first), the server's "/" from the first Ingress's defaultBackend, and
// per location: app-root, permanent/temporal redirect, ssl redirect, canary (header, then
// cookie, then weight), rewrite-target (nginx rewrite: the whole URI is replaced), upstream-vhost.

import type { Ingress } from '../types.js';
import type { Outcome, SampleRequest } from './types.js';
import { classOf, mergeOrder, nginxAnnotations, nsOf, servicePort, truthy } from '../ingress.js';
import type { ConvertInput, ConvertOptions } from '../types.js';

interface NLocation {
  ing: Ingress;
  ann: Map<string, string>;
  path: string;
  pathType: string;
  service?: string;
  canary?: { ing: Ingress; ann: Map<string, string>; service?: string };
}

interface NServer {
  host: string;
  owner: Ingress;
  locations: NLocation[];
  root?: string;
  tls: boolean;
  regex: boolean;
  /** from-to-www twin: redirects everything to this host. */
  redirectTo?: string;
}

function serviceOf(input: ConvertInput, ing: Ingress, b: { service?: { name: string; port?: { number?: number; name?: string } } } | undefined): string | undefined {
  const s = b?.service;
  if (!s) return undefined;
  const port = s.port?.number ?? servicePort(input, nsOf(ing), s.name, s.port)?.port;
  return port === undefined ? undefined : `${nsOf(ing)}/${s.name}:${port}`;
}

export class NginxModel {
  private readonly servers = new Map<string, NServer>();

  constructor(
    private readonly input: ConvertInput,
    className: string,
    private readonly options: ConvertOptions,
  ) {
    const ings = input.ingresses.filter((i) => classOf(i, input.ingressClasses ?? [], options) === className).slice().sort(mergeOrder);
    const tlsHosts = new Set<string>();
    for (const ing of ings) if (!truthy(nginxAnnotations(ing).get('canary'))) for (const t of ing.spec?.tls ?? []) for (const h of t.hosts ?? []) tlsHosts.add(h);
    for (const ing of ings) {
      const ann = nginxAnnotations(ing);
      if (truthy(ann.get('canary'))) continue;
      const rules = ing.spec?.rules ?? [];
      const def = serviceOf(input, ing, ing.spec?.defaultBackend);
      for (const host of rules.length === 0 && def ? [''] : rules.map((r) => r.host ?? '')) {
        if (!this.servers.has(host)) this.servers.set(host, { host, owner: ing, locations: [], root: def, tls: tlsHosts.has(host) || [...tlsHosts].some((t) => t.startsWith('*.') && host.endsWith(t.slice(1)) && host.split('.').length === t.split('.').length), regex: false });
      }
      for (const r of rules) {
        const server = this.servers.get(r.host ?? '')!;
        if (truthy(ann.get('use-regex')) || (ann.get('rewrite-target') ?? '') !== '') server.regex = true;
        for (const p of r.http?.paths ?? []) {
          const path = p.path || '/';
          if (server.locations.some((l) => l.path === path)) continue;
          server.locations.push({ ing, ann, path, pathType: p.pathType ?? 'ImplementationSpecific', service: serviceOf(input, ing, p.backend) });
        }
      }
    }
    for (const ing of ings) {
      const ann = nginxAnnotations(ing);
      if (!truthy(ann.get('canary'))) continue;
      for (const r of ing.spec?.rules ?? [])
        for (const p of r.http?.paths ?? []) {
          const loc = this.servers.get(r.host ?? '')?.locations.find((l) => l.path === (p.path || '/'));
          if (loc && !loc.canary) loc.canary = { ing, ann, service: serviceOf(input, ing, p.backend) };
        }
    }
    for (const s of [...this.servers.values()]) {
      if (!s.host || s.host.startsWith('*') || !s.locations.some((l) => truthy(l.ann.get('from-to-www-redirect')))) continue;
      const twin = s.host.startsWith('www.') ? s.host.slice(4) : `www.${s.host}`;
      if (!this.servers.has(twin)) this.servers.set(twin, { host: twin, owner: s.owner, locations: [], tls: false, regex: false, redirectTo: s.host });
    }
  }

  private server(host: string): NServer | undefined {
    const exact = this.servers.get(host);
    if (exact) return exact;
    let best: NServer | undefined;
    for (const s of this.servers.values())
      if (s.host.startsWith('*.') && host.endsWith(s.host.slice(1)) && (!best || s.host.length > best.host.length)) best = s;
    return best ?? this.servers.get('');
  }

  private location(s: NServer, uri: string): NLocation | undefined {
    if (s.regex) {
      const sorted = [...s.locations].sort((a, b) => b.path.length - a.path.length);
      for (const l of sorted) {
        try {
          if (new RegExp('^' + l.path, 'i').test(uri)) return l;
        } catch {
          // nginx would refuse the configuration; no match here.
        }
      }
      return undefined;
    }
    for (const l of s.locations) {
      if (l.pathType === 'Exact' && uri === l.path) return l;
      if (l.pathType === 'Prefix' && !l.path.endsWith('/') && uri === l.path) return l;
    }
    let best: NLocation | undefined;
    let bestLen = -1;
    for (const l of s.locations) {
      if (l.pathType === 'Exact') continue;
      const prefix = l.pathType === 'Prefix' && !l.path.endsWith('/') ? l.path + '/' : l.path;
      if (uri.startsWith(prefix) && prefix.length > bestLen) {
        best = l;
        bestLen = prefix.length;
      }
    }
    return best;
  }

  route(req: SampleRequest): Outcome {
    const s = this.server(req.host);
    if (!s) return { kind: 'not-found' };
    const httpsPort = this.options.httpsPort ?? 443;
    const hostPort = (scheme: string) => (scheme === 'https' ? (httpsPort === 443 ? '' : `:${httpsPort}`) : (this.options.httpPort ?? 80) === 80 ? '' : `:${this.options.httpPort}`);
    if (s.redirectTo) return { kind: 'redirect', status: 308, location: `${req.scheme}://${s.redirectTo}${hostPort(req.scheme)}${req.path}` };
    // app-root is an `if ($uri = /)` at server level: it answers before any location (and its ssl redirect).
    const appRoot = s.locations.map((l) => l.ann.get('app-root')).find((v) => v?.startsWith('/'));
    if (appRoot && req.path === '/') return { kind: 'redirect', status: 302, location: `${req.scheme}://${req.host}${hostPort(req.scheme)}${appRoot}` };
    const loc = this.location(s, req.path);
    if (!loc) {
      if (!s.root) return { kind: 'not-found' };
      return this.proxy(req, s, { ing: s.owner, ann: nginxAnnotations(s.owner), path: '/', pathType: 'Prefix', service: s.root }, hostPort);
    }
    return this.proxy(req, s, loc, hostPort);
  }

  private proxy(req: SampleRequest, s: NServer, loc: NLocation, hostPort: (scheme: string) => string): Outcome {
    const a = loc.ann;
    // `return` (permanent/temporal-redirect) runs in nginx's rewrite phase, before the ssl redirect (Lua).
    const temporal = a.get('temporal-redirect');
    const permanent = a.get('permanent-redirect');
    if (temporal || permanent) {
      const code = Number(temporal ? (a.get('temporal-redirect-code') ?? 302) : (a.get('permanent-redirect-code') ?? 301));
      return { kind: 'redirect', status: [301, 302, 303, 307, 308].includes(code) ? code : temporal ? 302 : 301, location: (temporal ?? permanent)! };
    }
    const sslRedirect = a.has('ssl-redirect') ? truthy(a.get('ssl-redirect')) : true;
    if (req.scheme === 'http' && ((s.tls && sslRedirect) || truthy(a.get('force-ssl-redirect'))))
      return { kind: 'redirect', status: 308, location: `https://${req.host}${hostPort('https')}${req.path}` };
    if (!loc.service) return { kind: 'error', reason: 'no backend' };

    let backends: Record<string, number> = { [loc.service]: 1 };
    if (loc.canary?.service) backends = this.canary(req, loc.canary, loc.service, loc.canary.service);
    let path = req.path;
    const target = a.get('rewrite-target');
    if (target) {
      try {
        const m = new RegExp(loc.path, 'i').exec(path);
        if (m) path = target.replace(/\$(\d)/g, (_x, n: string) => m[Number(n)] ?? '') || '/';
      } catch {
        // An invalid regex: nginx would refuse it.
      }
    }
    return { kind: 'backend', backends, path, host: a.get('upstream-vhost')?.toLowerCase() || req.host };
  }

  /** ingress-nginx balancer.lua route_to_alternative_balancer: header, then cookie, then weight. */
  private canary(req: SampleRequest, c: NonNullable<NLocation['canary']>, main: string, canary: string): Record<string, number> {
    const a = c.ann;
    const header = a.get('canary-by-header')?.trim();
    const value = header ? req.headers[header.toLowerCase()] : undefined;
    if (header && value !== undefined) {
      const hv = a.get('canary-by-header-value');
      const hp = a.get('canary-by-header-pattern');
      if (hv) {
        if (value === hv) return { [canary]: 1 };
      } else if (hp) {
        try {
          if (new RegExp(hp).test(value)) return { [canary]: 1 };
        } catch {
          return { [main]: 1 };
        }
      } else if (value === 'always') return { [canary]: 1 };
      else if (value === 'never') return { [main]: 1 };
    }
    const cookieName = a.get('canary-by-cookie')?.trim();
    if (cookieName) {
      const cookie = (req.headers.cookie ?? '')
        .split(';')
        .map((x) => x.trim().split('='))
        .find(([k]) => k === cookieName)?.[1];
      if (cookie === 'always') return { [canary]: 1 };
      if (cookie === 'never') return { [main]: 1 };
    }
    // balancer.lua: math.random(weightTotal) <= weight, weightTotal only honoured above 100.
    const total = Math.max(100, Number(a.get('canary-weight-total') ?? 100) || 100);
    const w = Math.min(Number(a.get('canary-weight') ?? 0) || 0, total);
    if (w <= 0) return { [main]: 1 };
    if (w >= total) return { [canary]: 1 };
    return { [main]: (total - w) / total, [canary]: w / total };
  }
}
