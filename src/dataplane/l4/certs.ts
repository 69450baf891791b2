// Certificate choice by SNI for TLS listeners in Terminate mode: exact DNS name, then
// wildcard (one label, as certificates define it), then the listener's first certificate.

import * as tls from 'node:tls';
import type { ListenerTLS } from '../../ir/types.js';

export class CertificateSelector {
  private readonly exact = new Map<string, tls.SecureContext>();
  private readonly wildcard = new Map<string, tls.SecureContext>(); // ".example.com" -> ctx
  private readonly fallback: tls.SecureContext | undefined;

  constructor(config: ListenerTLS | undefined, onBad: (secret: string, err: Error) => void) {
    let first: tls.SecureContext | undefined;
    for (const c of config?.certificates ?? []) {
      let ctx: tls.SecureContext;
      try {
        ctx = tls.createSecureContext({ cert: c.certPem, key: c.keyPem });
      } catch (e) {
        // A broken Secret disables that certificate, not the listener or the process.
        onBad(c.secret, e as Error);
        continue;
      }
      first ??= ctx;
      for (const name of c.dnsNames) {
        const n = name.toLowerCase();
        if (n.startsWith('*.')) {
          if (!this.wildcard.has(n.slice(1))) this.wildcard.set(n.slice(1), ctx);
        } else if (!this.exact.has(n)) {
          this.exact.set(n, ctx);
        }
      }
    }
    this.fallback = first;
  }

  select(sni: string): tls.SecureContext | undefined {
    const e = this.exact.get(sni);
    if (e) return e;
    const dot = sni.indexOf('.');
    if (dot > 0) {
      const w = this.wildcard.get(sni.slice(dot));
      if (w) return w;
    }
    return this.fallback;
  }
}
