// upstream-vhost, x-forwarded-prefix and custom-headers: what is sent upstream or back.

import type { AnnotationFamily } from './index.js';
import { nsOf } from '../ingress.js';

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;

export const upstream: AnnotationFamily = {
  names: ['upstream-vhost', 'x-forwarded-prefix', 'custom-headers'],
  apply(plan) {
    const a = plan.annotations;
    const vhost = a.get('upstream-vhost');
    if (vhost !== undefined) {
      if (/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i.test(vhost)) {
        plan.upstreamHost = vhost.toLowerCase();
        plan.report('upstream-vhost', 'converted', `URLRewrite hostname ${plan.upstreamHost} (the Host header sent upstream)`);
      } else plan.report('upstream-vhost', 'not-converted', `"${vhost}" is not a hostname (nginx variables cannot be converted)`);
    }
    const prefix = a.get('x-forwarded-prefix');
    if (prefix !== undefined && prefix !== '') {
      plan.requestHeaders.push({ name: 'X-Forwarded-Prefix', value: prefix });
      plan.report('x-forwarded-prefix', 'converted', `RequestHeaderModifier set X-Forwarded-Prefix: ${prefix}`);
    }
    const ch = a.get('custom-headers');
    if (ch !== undefined) {
      const [ns, name] = ch.includes('/') ? ch.split('/', 2) : [nsOf(plan.ingress), ch];
      const cm = (plan.input.configMaps ?? []).find((c) => (c.metadata.namespace || 'default') === ns && c.metadata.name === name);
      if (!cm) {
        plan.report('custom-headers', 'not-converted', `ConfigMap ${ns}/${name} was not given: pass it with the Ingresses (or --from-cluster) to turn its entries into a ResponseHeaderModifier`);
        return;
      }
      const bad: string[] = [];
      for (const [k, v] of Object.entries(cm.data ?? {}).sort(([x], [y]) => (x < y ? -1 : 1))) {
        if (HEADER_NAME.test(k)) plan.responseHeaders.push({ name: k, value: String(v) });
        else bad.push(k);
      }
      plan.report(
        'custom-headers',
        bad.length ? 'approximated' : 'converted',
        `ResponseHeaderModifier set from ConfigMap ${ns}/${name} (${plan.responseHeaders.length} header${plan.responseHeaders.length === 1 ? '' : 's'})${bad.length ? `; not header names, left out: ${bad.join(', ')}` : ''}`,
      );
    }
  },
};
