// TLS from the gateway to a backend, as a BackendTLSPolicy asks: the policy's hostname is
// both the SNI and the name the certificate must carry, unless subjectAltNames are given,
// in which case the certificate must carry one of those instead (GEP-1897).

import * as tls from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import type { UpstreamTLS } from '../../ir/types.js';

/**
 * Connection options for `tls.connect` (or an https/http2 agent) towards a backend.
 * The caller adds host/port/ALPN; everything about trust and identity is decided here.
 */
export function upstreamTlsOptions(policy: UpstreamTLS): tls.ConnectionOptions {
  const ca: string[] = [];
  if (policy.caPem) ca.push(policy.caPem);
  // Without a CA bundle the only trust anchor left is the system store; never fall back
  // to "accept anything", an unverified upstream is exactly what the policy forbids.
  if (policy.useSystemCAs || !policy.caPem) ca.push(...tls.rootCertificates);
  const sans = policy.subjectAltNames;
  return {
    // SNI must not be an IP literal (RFC 6066); Node warns and the policy names a host anyway.
    servername: isIp(policy.sni) ? undefined : policy.sni,
    ca,
    rejectUnauthorized: true,
    // Gateway spec.tls.backend.clientCertificateRef: presented when the backend asks.
    ...(policy.clientCertificate ? { cert: policy.clientCertificate.certPem, key: policy.clientCertificate.keyPem } : {}),
    checkServerIdentity: (_host: string, cert: PeerCertificate): Error | undefined =>
      sans.length === 0 ? tls.checkServerIdentity(policy.sni, cert) : checkSubjectAltNames(sans, cert),
  };
}

function checkSubjectAltNames(sans: UpstreamTLS['subjectAltNames'], cert: PeerCertificate): Error | undefined {
  const uris = certUris(cert);
  for (const san of sans) {
    if (san.type === 'URI') {
      if (uris.includes(san.value)) return undefined;
    } else if (tls.checkServerIdentity(san.value, cert) === undefined) {
      return undefined;
    }
  }
  const want = sans.map((s) => `${s.type}:${s.value}`).join(', ');
  const err = new Error(
    `backend certificate does not match any BackendTLSPolicy subjectAltNames (${want}); certificate has: ${cert.subjectaltname ?? 'no SAN'}`,
  ) as Error & { code: string; reason: string };
  err.code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  err.reason = 'subjectAltNames mismatch';
  return err;
}

/** URI entries of the certificate's subjectAltName ("DNS:a, URI:spiffe://x, ..."). */
function certUris(cert: PeerCertificate): string[] {
  const raw = cert.subjectaltname;
  if (!raw) return [];
  const out: string[] = [];
  // Node quotes entries that contain ", " or other specials as JSON strings: URI:"a, b".
  for (const m of raw.matchAll(/URI:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const v = m[1]!;
    if (v.startsWith('"')) {
      try {
        out.push(JSON.parse(v) as string);
      } catch {
        /* malformed quoting: ignore this entry rather than trust it */
      }
    } else {
      out.push(v.trim());
    }
  }
  return out;
}

function isIp(s: string): boolean {
  return /^[0-9.]+$/.test(s) || s.includes(':');
}
