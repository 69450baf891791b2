// app-root, permanent-redirect(-code), temporal-redirect(-code), ssl-redirect,
// force-ssl-redirect, from-to-www-redirect. The redirects that depend on the host and its
// TLS (ssl-redirect, from-to-www) are emitted by the route builder; here they are read.

import type { HTTPRequestRedirectFilter } from '../../api/types.js';
import type { AnnotationFamily } from './index.js';
import type { IngressPlan } from '../plan.js';
import { truthy } from '../ingress.js';

const NAMES = ['app-root', 'permanent-redirect', 'permanent-redirect-code', 'temporal-redirect', 'temporal-redirect-code', 'ssl-redirect', 'force-ssl-redirect', 'from-to-www-redirect'];
const CODES = new Set([301, 302, 303, 307, 308]);

/** `return <code> <url>` as a RequestRedirect: the URL replaces scheme, host, port and the whole path. */
function redirectTo(plan: IngressPlan, name: string, url: string, codeName: string, defaultCode: 301 | 302): HTTPRequestRedirectFilter | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    plan.report(name, 'not-converted', `"${url}" is not an absolute URL; a RequestRedirect needs scheme and host`);
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    plan.report(name, 'not-converted', `scheme ${u.protocol} cannot be redirected to (RequestRedirect allows http and https)`);
    return undefined;
  }
  let code: number = defaultCode;
  const rawCode = plan.annotations.get(codeName);
  if (rawCode !== undefined) {
    const c = Number(rawCode);
    if (CODES.has(c)) {
      code = c;
      plan.report(codeName, 'converted', `statusCode ${c}`);
    } else plan.report(codeName, 'approximated', `RequestRedirect allows 301, 302, 303, 307, 308; ${rawCode} becomes ${defaultCode}`);
  }
  const f: HTTPRequestRedirectFilter = { scheme: u.protocol.slice(0, -1) as 'http' | 'https', hostname: u.hostname, path: { type: 'ReplaceFullPath', replaceFullPath: u.pathname || '/' }, statusCode: code as 301 };
  if (u.port) f.port = Number(u.port);
  if (u.search || u.hash) plan.report(name, 'approximated', `RequestRedirect to ${u.protocol}//${u.host}${u.pathname} (${code}); a redirect cannot set a query string or fragment: "${u.search}${u.hash}" is dropped`);
  else plan.report(name, 'converted', `RequestRedirect to ${url} (${code}), replacing the whole path as nginx's return does`);
  return f;
}

export const redirects: AnnotationFamily = {
  names: NAMES,
  apply(plan) {
    const a = plan.annotations;
    // ingress-nginx reads temporal-redirect first: when both are set, it wins.
    const temporal = a.get('temporal-redirect');
    const permanent = a.get('permanent-redirect');
    if (temporal) {
      plan.redirect = redirectTo(plan, 'temporal-redirect', temporal, 'temporal-redirect-code', 302);
      if (permanent) plan.report('permanent-redirect', 'converted', 'ignored: temporal-redirect is set and wins in ingress-nginx');
    } else if (permanent) {
      plan.redirect = redirectTo(plan, 'permanent-redirect', permanent, 'permanent-redirect-code', 301);
    }
    if (!temporal && a.has('temporal-redirect-code')) plan.report('temporal-redirect-code', 'converted', 'no effect without temporal-redirect');
    if (!permanent && a.has('permanent-redirect-code')) plan.report('permanent-redirect-code', 'converted', 'no effect without permanent-redirect');

    const appRoot = a.get('app-root');
    if (appRoot !== undefined) {
      if (appRoot.startsWith('/')) {
        plan.appRoot = appRoot;
        plan.report('app-root', 'converted', `an Exact "/" rule redirecting (302) to ${appRoot}`);
      } else plan.report('app-root', 'not-converted', `"${appRoot}" must be a path starting with "/"`);
    }
    if (a.has('ssl-redirect')) {
      plan.sslRedirect = truthy(a.get('ssl-redirect'));
      plan.report('ssl-redirect', 'converted', plan.sslRedirect ? 'hosts in spec.tls: the HTTP listener route redirects to https (308)' : 'false: the HTTP listener route serves the backends too');
    }
    if (a.has('force-ssl-redirect')) {
      plan.forceSslRedirect = truthy(a.get('force-ssl-redirect'));
      plan.report('force-ssl-redirect', 'converted', plan.forceSslRedirect ? 'the HTTP listener route redirects to https (308) even for hosts without spec.tls' : 'false: no effect');
    }
    if (a.has('from-to-www-redirect')) {
      plan.fromToWww = truthy(a.get('from-to-www-redirect'));
      plan.report('from-to-www-redirect', 'converted', plan.fromToWww ? 'an extra HTTPRoute for the www/non-www twin of each host redirecting (308) to it' : 'false: no effect');
    }
  },
};
