// Sample requests for --verify, derived from the Ingresses alone (never from the converted
// output): per rule host and path, the path itself, with a trailing slash, one and two
// segments deeper, a string extension ("/apix": the segment boundary), its parent, an
// unknown path; canary headers and cookies with their trigger values and others; both
// schemes for hosts in spec.tls; the www twin for from-to-www-redirect; an unknown host.

import type { ConvertInput, ConvertOptions, Ingress } from '../types.js';
import type { SampleRequest } from './types.js';
import { classOf, idOf, nginxAnnotations, truthy } from '../ingress.js';

/** The literal part a regex path starts with ("/api(/|$)(.*)" -> "/api"). */
function literalPrefix(path: string): string {
  const i = path.search(/[\\^$|?*+()[\]{}]/);
  return i < 0 ? path : path.slice(0, i) || '/';
}

function concreteHost(host: string): string {
  if (host === '') return 'any-host.example';
  return host.startsWith('*.') ? `sample${host.slice(1)}` : host;
}

export function sampleRequests(input: ConvertInput, options: ConvertOptions): SampleRequest[] {
  const out = new Map<string, SampleRequest>();
  const push = (r: SampleRequest) => {
    const k = `${r.className} ${r.scheme}://${r.host}${r.path} ${JSON.stringify(r.headers)}`;
    if (!out.has(k)) out.set(k, r);
  };
  const classes = input.ingressClasses ?? [];
  const byClass = new Map<string, Ingress[]>();
  for (const ing of input.ingresses) {
    const c = classOf(ing, classes, options);
    if (!byClass.has(c)) byClass.set(c, []);
    byClass.get(c)!.push(ing);
  }
  for (const [className, ings] of byClass) {
    const tlsHosts = new Set(ings.flatMap((i) => (i.spec?.tls ?? []).flatMap((t) => t.hosts ?? [])));
    for (const ing of ings) {
      const a = nginxAnnotations(ing);
      // gRPC and passthrough traffic is not HTTP/1.1 GET: --verify covers HTTP routing only.
      if (/^GRPCS?$/i.test(a.get('backend-protocol') ?? '')) continue;
      const canaryHeaders: Record<string, string>[] = [{}];
      if (truthy(a.get('canary'))) {
        const h = a.get('canary-by-header')?.trim().toLowerCase();
        if (h) for (const v of ['always', 'never', 'other', a.get('canary-by-header-value'), a.get('canary-by-header-pattern') ? 'x-' + a.get('canary-by-header-pattern')!.replace(/[^\w-]/g, '') : undefined]) if (v) canaryHeaders.push({ [h]: v });
        const c = a.get('canary-by-cookie')?.trim();
        if (c) for (const v of ['always', 'never', 'other']) canaryHeaders.push({ cookie: `a=1; ${c}=${v}` });
        if (h && c) canaryHeaders.push({ [h]: 'never', cookie: `${c}=always` }, { [h]: 'other', cookie: `${c}=always` });
      }
      const rules = ing.spec?.rules ?? [];
      const hostsAndPaths: [string, string][] = rules.flatMap((r) => (r.http?.paths ?? []).map((p) => [r.host ?? '', p.path || '/'] as [string, string]));
      if (ing.spec?.defaultBackend) hostsAndPaths.push([rules[0]?.host ?? '', '/no-such-path']);
      for (const [rawHost, rawPath] of hostsAndPaths) {
        const host = concreteHost(rawHost);
        const base = literalPrefix(rawPath).replace(/(.)\/$/, '$1');
        const trimmed = base === '/' ? '' : base;
        const parent = trimmed.slice(0, trimmed.lastIndexOf('/')) || '/';
        const paths = [base, `${trimmed}/`, `${trimmed}/a`, `${trimmed}/a/b`, ...(trimmed ? [`${trimmed}x`] : []), parent, '/', '/zz-unknown'];
        const covered = tlsHosts.has(rawHost) || [...tlsHosts].some((t) => t.startsWith('*.') && rawHost.endsWith(t.slice(1)) && rawHost.split('.').length === t.split('.').length);
        const schemes: ('http' | 'https')[] = covered && !truthy(a.get('ssl-passthrough')) ? ['http', 'https'] : ['http'];
        for (const scheme of schemes)
          for (const path of paths)
            for (const headers of canaryHeaders) push({ scheme, host, path, headers, className, why: `${idOf(ing)} ${rawHost || '*'}${rawPath}` });
        if (truthy(a.get('from-to-www-redirect')) && rawHost && !rawHost.startsWith('*')) {
          const twin = rawHost.startsWith('www.') ? rawHost.slice(4) : `www.${rawHost}`;
          push({ scheme: 'http', host: twin, path: base, headers: {}, className, why: `${idOf(ing)} from-to-www-redirect` });
        }
      }
    }
    push({ scheme: 'http', host: 'unknown-host.invalid', path: '/', headers: {}, className, why: 'a host no Ingress names' });
  }
  return [...out.values()];
}
