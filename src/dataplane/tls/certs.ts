// Certificate choice for HTTPS ports: the listener that owns the SNI name (most specific
// hostname), then among its certificates exact dnsName, then wildcard, then its first.
// Secure contexts are cached by PEM so an apply that keeps a certificate does not rebuild it.

import * as tls from 'node:tls';
import type { Certificate, Port } from '../../ir/types.js';
import { HostTable, hostnameMatches } from '../router/host.js';

const cache = new Map<string, tls.SecureContext>();

function contextFor(c: Certificate): tls.SecureContext | undefined {
  const key = c.certPem + '\0' + c.keyPem;
  let ctx = cache.get(key);
  if (!ctx) {
    try {
      ctx = tls.createSecureContext({ cert: c.certPem, key: c.keyPem, ALPNProtocols: ['h2', 'http/1.1'] } as tls.SecureContextOptions);
    } catch {
      return undefined; // a bad Secret must not take the port down; the translator reports it
    }
    cache.set(key, ctx);
  }
  return ctx;
}

export class CertSelector {
  private listeners = new HostTable<Certificate[]>();
  readonly defaultCert: Certificate | undefined;

  constructor(port: Port) {
    let first: Certificate | undefined;
    for (const l of port.listeners) {
      const certs = l.tls?.certificates ?? [];
      if (!certs.length) continue;
      first ??= certs[0];
      this.listeners.add(l.hostname, certs);
    }
    this.defaultCert = first;
  }

  pick(servername: string): Certificate | undefined {
    const certs = servername ? this.listeners.lookup(servername.toLowerCase()) : undefined;
    if (!certs) return this.defaultCert;
    const name = servername.toLowerCase();
    for (const c of certs) if (c.dnsNames.some((d) => d.toLowerCase() === name)) return c;
    for (const c of certs) if (c.dnsNames.some((d) => d.startsWith('*.') && hostnameMatches(d.toLowerCase(), name))) return c;
    return certs[0];
  }

  context(servername: string): tls.SecureContext | undefined {
    const c = this.pick(servername);
    return c ? contextFor(c) : undefined;
  }
}
