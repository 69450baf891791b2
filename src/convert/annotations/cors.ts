// enable-cors and the cors-* set, with ingress-nginx's documented defaults, as a CORS filter.

import type { HTTPCORSFilter } from '../../api/types.js';
import type { AnnotationFamily } from './index.js';
import { truthy } from '../ingress.js';

const NAMES = ['enable-cors', 'cors-allow-origin', 'cors-allow-methods', 'cors-allow-headers', 'cors-expose-headers', 'cors-allow-credentials', 'cors-max-age'];
const DEFAULT_METHODS = 'GET, PUT, POST, DELETE, PATCH, OPTIONS';
const DEFAULT_HEADERS = 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', '*']);
const ORIGIN = /^(\*|https?:\/\/(\*\.)?[a-z0-9.-]+(:\d+)?)$/i;

const list = (v: string): string[] => v.split(',').map((s) => s.trim()).filter((s) => s !== '');

export const cors: AnnotationFamily = {
  names: NAMES,
  apply(plan) {
    const a = plan.annotations;
    if (!truthy(a.get('enable-cors'))) {
      for (const n of NAMES) if (a.has(n)) plan.report(n, 'converted', 'no effect without enable-cors: "true" (as in ingress-nginx)');
      return;
    }
    const notes: string[] = [];
    const origins = list(a.get('cors-allow-origin') ?? '*');
    const goodOrigins = origins.filter((o) => ORIGIN.test(o));
    if (goodOrigins.length !== origins.length) notes.push(`origins left out (not scheme://host[:port]): ${origins.filter((o) => !ORIGIN.test(o)).join(', ')}`);
    const methods = list(a.get('cors-allow-methods') ?? DEFAULT_METHODS).map((m) => m.toUpperCase());
    const goodMethods = [...new Set(methods.filter((m) => METHODS.has(m)))];
    if (goodMethods.length !== methods.length) notes.push(`methods left out: ${methods.filter((m) => !METHODS.has(m)).join(', ')}`);
    const maxAge = Number(a.get('cors-max-age') ?? '1728000');
    const f: HTTPCORSFilter = {
      allowOrigins: goodOrigins.length ? goodOrigins : ['*'],
      allowMethods: goodMethods,
      allowHeaders: [...new Set(list(a.get('cors-allow-headers') ?? DEFAULT_HEADERS))],
      allowCredentials: a.has('cors-allow-credentials') ? truthy(a.get('cors-allow-credentials')) : true,
      maxAge: Number.isInteger(maxAge) && maxAge > 0 ? maxAge : 1728000,
    };
    const expose = list(a.get('cors-expose-headers') ?? '');
    if (expose.length) f.exposeHeaders = [...new Set(expose)];
    plan.cors = f;
    const status = notes.length ? 'approximated' : 'converted';
    plan.report('enable-cors', status, `CORS filter (ingress-nginx defaults for the cors-* annotations not set)${notes.length ? `; ${notes.join('; ')}` : ''}`);
    for (const n of NAMES.slice(1)) if (a.has(n)) plan.report(n, status, 'in the CORS filter');
  },
};
