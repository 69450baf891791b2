// Certificate choice for HTTPS ports: the listener that owns the SNI name (most specific
// hostname), then among its certificates exact dnsName, then wildcard, then its first.
// A listener with client certificate validation (Gateway spec.tls.frontend) gets contexts that
// carry its CA bundle, so the handshake verifies the client against the CA of the listener the
// SNI selected. Secure contexts are cached by PEM so an apply that keeps a certificate does not
// rebuild it.

import * as tls from 'node:tls';
import type { Certificate, ClientValidation, Port } from '../../ir/types.js';
import { HostTable, hostnameMatches } from '../router/host.js';

const cache = new Map<string, tls.SecureContext>();

function contextFor(c: Certificate, caPem: string | undefined): tls.SecureContext | undefined {
  const key = c.certPem + '\0' + c.keyPem + '\0' + (caPem ?? '');
  let ctx = cache.get(key);
  if (!ctx) {
    try {
      ctx = tls.createSecureContext({ cert: c.certPem, key: c.keyPem, ...(caPem ? { ca: caPem } : {}), ALPNProtocols: ['h2', 'http/1.1'] } as tls.SecureContextOptions);
    } catch {
      return undefined; // a bad Secret must not take the port down; the translator reports it
    }
    cache.set(key, ctx);
  }
  return ctx;
}

interface Entry {
  certs: Certificate[];
  validation: ClientValidation | undefined;
}

export class CertSelector {
  private listeners = new HostTable<Entry>();
  private readonly first: Entry | undefined;
  readonly defaultCert: Certificate | undefined;
  /** Some listener validates clients: the port must ask every client for a certificate. */
  readonly requestCert: boolean;

  constructor(port: Port) {
    let first: Entry | undefined;
    let requestCert = false;
    for (const l of port.listeners) {
      if (l.protocol === 'TLS') continue; // served by the port's TLS routes (mixed mode), never by its HTTPS server
      const certs = l.tls?.certificates ?? [];
      if (!certs.length) continue;
      const entry: Entry = { certs, validation: l.tls?.clientValidation };
      if (entry.validation) requestCert = true;
      first ??= entry;
      this.listeners.add(l.hostname, entry);
    }
    this.first = first;
    this.defaultCert = first?.certs[0];
    this.requestCert = requestCert;
  }

  /** CA bundle of the port's default listener (no SNI, or an SNI no listener owns). */
  get defaultCaPem(): string | undefined {
    return this.first?.validation?.caPem;
  }

  private entry(servername: string): Entry | undefined {
    return (servername ? this.listeners.lookup(servername.toLowerCase()) : undefined) ?? this.first;
  }

  pick(servername: string): Certificate | undefined {
    const e = servername ? this.listeners.lookup(servername.toLowerCase()) : undefined;
    if (!e) return this.defaultCert;
    const certs = e.certs;
    const name = servername.toLowerCase();
    for (const c of certs) if (c.dnsNames.some((d) => d.toLowerCase() === name)) return c;
    for (const c of certs) if (c.dnsNames.some((d) => d.startsWith('*.') && hostnameMatches(d.toLowerCase(), name))) return c;
    return certs[0];
  }

  /** Client validation of the listener the SNI selected (the same choice the handshake made). */
  validation(servername: string): ClientValidation | undefined {
    return this.entry(servername)?.validation;
  }

  context(servername: string): tls.SecureContext | undefined {
    const c = this.pick(servername);
    return c ? contextFor(c, this.entry(servername)?.validation?.caPem) : undefined;
  }
}
