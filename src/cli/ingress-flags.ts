// The flags that make `portico run`, `portico check` and `portico controller` serve the
// Ingresses of Portico's IngressClasses (convert/serve.ts), and how the result is shown:
// report lines for logs and `check`, one per Ingress and annotation.

import { DEFAULT_INGRESS_CONTROLLER } from '../api/names.js';
import { parseGatewayRef, type IngressServeOptions } from '../convert/serve.js';
import type { ObjectStatus, TranslateResult } from '../translate/types.js';

export const INGRESS_FLAGS = {
  'ingress-controller': { type: 'string' },
  'ingress-gateway': { type: 'string' },
  'ingress-http-port': { type: 'string' },
  'ingress-https-port': { type: 'string' },
} as const;

/** Usage lines, flag names padded to `width` columns (each command aligns its own help). */
export function ingressFlagsUsage(width: number): string {
  const line = (flag: string, text: string[]): string => `  ${flag.padEnd(width)} ${text[0]}\n` + text.slice(1).map((t) => `  ${''.padEnd(width)} ${t}\n`).join('');
  return (
    line('--ingress-controller C', [
      `serve the Ingresses of IngressClasses whose spec.controller is C (default ${DEFAULT_INGRESS_CONTROLLER});`,
      `"none" serves no Ingress`,
    ]) +
    line('--ingress-gateway NS/NAME', [
      'attach the routes converted from Ingresses to this Gateway (by port), next to its HTTPRoutes;',
      'default: a Gateway portico-ingress-<IngressClass> per class, on the ports below',
    ]) +
    line('--ingress-http-port N', ['port of the Ingress HTTP listener (default 80)']) +
    line('--ingress-https-port N', ['port of the Ingress HTTPS listener (default 443)'])
  );
}

function port(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${flag} must be a port number from 1 to 65535 (got "${String(v)}")`);
  return n;
}

/** What the flags ask for; undefined with `--ingress-controller none`. Throws a message naming the flag. */
export function ingressServeOptions(values: Record<string, unknown>): IngressServeOptions | undefined {
  const ctl = values['ingress-controller'];
  if (ctl === 'none') return undefined;
  if (ctl !== undefined && (typeof ctl !== 'string' || ctl === '')) throw new Error('--ingress-controller needs a controller name (or "none")');
  const gwText = values['ingress-gateway'];
  let gateway: IngressServeOptions['gateway'];
  if (gwText !== undefined) {
    gateway = parseGatewayRef(String(gwText));
    if (!gateway) throw new Error(`--ingress-gateway must be namespace/name of a Gateway (got "${String(gwText)}")`);
  }
  const httpPort = port(values['ingress-http-port'], '--ingress-http-port');
  const httpsPort = port(values['ingress-https-port'], '--ingress-https-port');
  return {
    ingressController: typeof ctl === 'string' ? ctl : DEFAULT_INGRESS_CONTROLLER,
    ...(gateway ? { gateway } : {}),
    ...(httpPort !== undefined ? { httpPort } : {}),
    ...(httpsPort !== undefined ? { httpsPort } : {}),
  };
}

export { ingressReportLines } from '../convert/serve.js';

/** `portico check`'s section: each served Ingress, the Gateway serving it, its loadBalancer, its report lines. */
export function renderIngresses(result: TranslateResult, origin: (ns: string, name: string) => string | undefined): string {
  const served = result.ingresses?.served ?? [];
  const lb = new Map<string, ObjectStatus>();
  for (const s of result.statuses) if (s.kind === 'Ingress') lb.set(`${s.namespace}/${s.name}`, s);
  const blocks: string[] = [];
  for (const i of served) {
    const id = `${i.namespace}/${i.name}`;
    const o = origin(i.namespace, i.name);
    const addrs = (((lb.get(id)?.status as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)?.loadBalancer?.ingress) ?? []).map((a) => a.ip ?? a.hostname);
    const lines = [`Ingress ${id}${o ? `  (${o})` : ''}`, `  IngressClass ${i.className}, served by Gateway ${i.gateway.namespace}/${i.gateway.name}, status.loadBalancer: ${addrs.length ? addrs.join(', ') : '(none)'}`];
    for (const e of result.ingresses!.report) if (e.ingress === id && e.status !== 'converted') lines.push(`  ${e.status}  ${e.item}: ${e.message}`);
    blocks.push(lines.join('\n'));
  }
  return blocks.join('\n\n');
}
