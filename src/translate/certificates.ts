// kubernetes.io/tls Secrets -> IR certificates. Parsing uses node:crypto only (pure: no
// I/O), so a malformed Secret becomes a condition message, never an exception.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { Secret } from '../api/types.js';
import type { Certificate } from '../ir/types.js';
import { sealKey } from '../ir/keys.js';

export type CertificateResult = { ok: true; certificate: Certificate } | { ok: false; message: string };

const TLS_SECRET_TYPE = 'kubernetes.io/tls';

function field(secret: Secret, key: string): string | undefined {
  const s = secret.stringData?.[key];
  if (typeof s === 'string') return s;
  const d = secret.data?.[key];
  if (typeof d !== 'string') return undefined;
  return Buffer.from(d, 'base64').toString('utf8');
}

/** DNS names the certificate covers: SAN DNS entries, else the subject CN (legacy certificates). */
export function dnsNamesOf(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (san) {
    const names = san
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4).toLowerCase());
    if (names.length > 0) return [...new Set(names)].sort();
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? [cn.trim().toLowerCase()] : [];
}

export function certificateFromSecret(secret: Secret): CertificateResult {
  const id = `${secret.metadata.namespace ?? 'default'}/${secret.metadata.name}`;
  if (secret.type !== TLS_SECRET_TYPE) {
    return { ok: false, message: `Secret ${id} must be of type ${TLS_SECRET_TYPE} (is ${secret.type ?? 'Opaque'})` };
  }
  const certPem = field(secret, 'tls.crt');
  const keyPem = field(secret, 'tls.key');
  if (!certPem || !keyPem) return { ok: false, message: `Secret ${id} must have both tls.crt and tls.key` };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return { ok: false, message: `Secret ${id} tls.crt is not a valid PEM certificate` };
  }
  try {
    const key = createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(key)) return { ok: false, message: `Secret ${id} tls.key does not match tls.crt` };
  } catch {
    return { ok: false, message: `Secret ${id} tls.key is not a valid PEM private key` };
  }
  // The key is sealed: the engine reads it, nothing that prints or serves the IR sees it (ir/keys.ts).
  return { ok: true, certificate: sealKey({ secret: id, certPem, dnsNames: dnsNamesOf(cert) }, keyPem) };
}

/** A PEM bundle of CA certificates (BackendTLSPolicy ConfigMap ca.crt): valid when it holds at least one certificate and all parse. */
export function validCABundle(pem: string): boolean {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks || blocks.length === 0) return false;
  try {
    for (const b of blocks) new X509Certificate(b);
    return true;
  } catch {
    return false;
  }
}
