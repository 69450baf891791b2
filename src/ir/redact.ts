// What people see of the IR and of anything else Portico serves or prints: certificates by
// fingerprint, never key material. Every place that shows the IR or statuses to a person
// (admin API replies, `portico check`, logs, golden files) goes through redact() and/or
// scrubSecrets(); the key itself never reaches them anyway (./keys.ts seals it), so these
// are the second of two locks.
//
// Fingerprint format: "sha256:" + the SHA-256 of the certificate's DER bytes as upper-case
// hex pairs separated by colons, i.e. what `openssl x509 -noout -fingerprint -sha256 -in
// tls.crt` prints after "=" (and node's X509Certificate.fingerprint256). For a chain, the
// first (leaf) certificate.

import { X509Certificate } from 'node:crypto';

const fingerprints = new Map<string, string>();

/** "sha256:AB:CD:…" of the first certificate in `certPem` (see the file comment). */
export function certificateFingerprint(certPem: string): string {
  let f = fingerprints.get(certPem);
  if (f === undefined) {
    try {
      f = `sha256:${new X509Certificate(certPem).fingerprint256}`;
    } catch {
      f = 'sha256:(not a valid certificate)';
    }
    if (fingerprints.size >= 4096) fingerprints.clear();
    fingerprints.set(certPem, f);
  }
  return f;
}

/** PEM private key blocks (RSA, EC, PKCS#8, encrypted, OpenSSH), also cut short, and base64-encoded PEM (Secret `data`). */
const PRIVATE_KEY_PEM = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?:[\s\S]*?-----END \1PRIVATE KEY-----|[\s\S]*$)/g;
const BASE64_PEM = /LS0tLS1CRUdJTi[A-Za-z0-9+/=\r\n]*/g;
export const REDACTED_KEY = '[private key redacted]';

/** `text` with any private key (PEM, or base64 of a PEM) replaced by REDACTED_KEY. For logs, errors and replies. */
export function scrubSecrets(text: string): string {
  if (!text.includes('PRIVATE KEY') && !text.includes('LS0tLS1CRUdJTi')) return text;
  return text.replace(PRIVATE_KEY_PEM, REDACTED_KEY).replace(BASE64_PEM, '[PEM data redacted]');
}

/**
 * A copy of `value` (IR, statuses, any plain data) fit for people: an object's `certPem` is
 * replaced, in place, by `fingerprint`; `keyPem` and `sessionKey` are dropped (sealed or not); every string is
 * scrubbed. The input is not changed.
 */
export function redact(value: unknown): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'keyPem' || k === 'sessionKey') continue;
    if (k === 'certPem' && typeof v === 'string') out.fingerprint = certificateFingerprint(v);
    else out[k] = redact(v);
  }
  return out;
}
