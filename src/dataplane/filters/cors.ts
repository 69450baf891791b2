// CORS (HTTPRoute filter): preflight requests are answered by the gateway; actual requests
// from an allowed origin get the Access-Control-* response headers added.

import type { HTTPFilter } from '../../ir/types.js';

export type Cors = Extract<HTTPFilter, { type: 'CORS' }>;

/** Origin allowed by the filter: "*", exact, or a "scheme://*.example.com" wildcard. */
export function originAllowed(f: Cors, origin: string): boolean {
  for (const o of f.allowOrigins) {
    if (o === '*' || o === origin) return true;
    const star = o.indexOf('*');
    if (star >= 0) {
      const head = o.slice(0, star);
      const tail = o.slice(star + 1);
      if (origin.length >= head.length + tail.length + 1 && origin.startsWith(head) && origin.endsWith(tail)) return true;
    }
  }
  return false;
}

function allowOriginValue(f: Cors, origin: string): string {
  // With credentials the spec forbids "*": echo the origin.
  return f.allowOrigins.includes('*') && !f.allowCredentials ? '*' : origin;
}

/**
 * Headers for the gateway's answer to a preflight (OPTIONS with Access-Control-Request-Method).
 * A "*" in allowMethods/allowHeaders is only a wildcard to browsers on uncredentialed requests
 * (Fetch spec); with allowCredentials it would be read as a literal name, so the requested
 * method and headers are echoed instead. Echoing is also correct without credentials.
 */
export function preflightHeaders(f: Cors, origin: string, requestMethod: string | undefined, requestHeaders: string | undefined): string[] {
  const h: string[] = [];
  if (!originAllowed(f, origin)) return h;
  h.push('access-control-allow-origin', allowOriginValue(f, origin));
  if (f.allowCredentials) h.push('access-control-allow-credentials', 'true');
  if (f.allowMethods.length) {
    const echo = f.allowMethods.includes('*') && f.allowCredentials && requestMethod;
    h.push('access-control-allow-methods', echo ? requestMethod : f.allowMethods.join(', '));
  }
  if (f.allowHeaders.length) {
    const echo = f.allowHeaders.includes('*') && requestHeaders;
    h.push('access-control-allow-headers', echo ? requestHeaders : f.allowHeaders.join(', '));
  }
  // Not read by browsers on a preflight, but the Gateway API conformance suite expects it there too.
  if (f.exposeHeaders.length) h.push('access-control-expose-headers', f.exposeHeaders.join(', '));
  if (f.maxAge > 0) h.push('access-control-max-age', String(f.maxAge));
  if (!f.allowOrigins.includes('*') || f.allowCredentials) h.push('vary', 'Origin');
  return h;
}

/** Headers added to an actual (non-preflight) response. */
export function responseHeaders(f: Cors, origin: string): string[] {
  if (!originAllowed(f, origin)) return [];
  const h = ['access-control-allow-origin', allowOriginValue(f, origin)];
  if (f.allowCredentials) h.push('access-control-allow-credentials', 'true');
  if (f.exposeHeaders.length) h.push('access-control-expose-headers', f.exposeHeaders.join(', '));
  if (!f.allowOrigins.includes('*') || f.allowCredentials) h.push('vary', 'Origin');
  return h;
}
