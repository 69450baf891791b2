// --verify: sample requests from the Ingresses, routed once by the ingress-nginx model and
// once by Portico's translator and router over the converted objects; a row passes when
// both send the request to the same place (backend and share, upstream path and Host, or
// the same redirect, or both to the default 404).

import type { ConvertInput, ConvertOptions, ConvertResult } from '../types.js';
import type { Resource } from '../../api/types.js';
import { NginxModel } from './nginx.js';
import { GatewayModel } from './gateway.js';
import { sampleRequests } from './samples.js';
import { describe, sameOutcome, type VerifyRow } from './types.js';

export type { VerifyRow } from './types.js';

export function verifyConversion(input: ConvertInput, result: ConvertResult, options: ConvertOptions = {}): VerifyRow[] {
  const rows: VerifyRow[] = [];
  const nginx = new Map<string, NginxModel>();
  const gateway = new Map<string, GatewayModel>();
  for (const req of sampleRequests(input, options)) {
    let n = nginx.get(req.className);
    if (!n) nginx.set(req.className, (n = new NginxModel(input, req.className, options)));
    let g = gateway.get(req.className);
    if (!g) gateway.set(req.className, (g = new GatewayModel(objectsOfGateway(result.resources, req.className), options.httpPort ?? 80, options.httpsPort ?? 443)));
    const a = n.route(req);
    const b = g.route(req);
    rows.push({ request: req, nginx: a, gateway: b, pass: sameOutcome(a, b) });
  }
  return rows;
}

/** The Gateway named after the class and every object that is not another class's Gateway. */
function objectsOfGateway(resources: readonly Resource[], className: string): Resource[] {
  return resources.filter((r) => r.kind !== 'Gateway' || r.metadata.name === className).filter((r) => {
    const parents = (r.spec as { parentRefs?: { name: string }[] } | undefined)?.parentRefs;
    return !parents || parents.some((p) => p.name === className);
  });
}

export function verifyTable(rows: readonly VerifyRow[]): string {
  const cells = rows.map((r) => {
    const h = Object.entries(r.request.headers).map(([k, v]) => `${k}: ${v}`).join(', ');
    return [r.pass ? 'PASS' : 'FAIL', `${r.request.scheme}://${r.request.host}${r.request.path}${h ? ` [${h}]` : ''}`, describe(r.nginx), r.pass ? '(same)' : describe(r.gateway)];
  });
  const head = ['RESULT', 'REQUEST', 'INGRESS-NGINX', 'CONVERTED ROUTES'];
  const w = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => [c[0]!.padEnd(w[0]!), c[1]!.padEnd(w[1]!), c[2]!.padEnd(w[2]!), c[3]].join('  ').trimEnd();
  const failed = rows.filter((r) => !r.pass).length;
  return ['Verification (ingress-nginx semantics vs the converted routes):', line(head), ...cells.map(line), `${rows.length - failed} passed, ${failed} failed${failed ? ' (an approximated item in the report usually explains a failure)' : ''}`, ''].join('\n');
}
