// One self-signed certificate for every TLS listener (backend, nginx, HAProxy, Portico),
// so the HTTPS scenario compares proxies, not key types.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './proc.js';

export interface CertFiles {
  cert: string; // PEM path
  key: string; // PEM path
  combined: string; // cert + key in one PEM, as HAProxy wants it
  certPem: string;
  keyPem: string;
}

export async function ensureCert(dir: string): Promise<CertFiles> {
  const cert = join(dir, 'bench.crt');
  const key = join(dir, 'bench.key');
  const combined = join(dir, 'bench.pem');
  if (!existsSync(cert) || !existsSync(key)) {
    // ECDSA P-256: the usual modern default, and what all three servers handle natively.
    const r = await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '30', '-subj', '/CN=bench.local',
      '-addext', 'subjectAltName=DNS:bench.local,DNS:*.bench.local,IP:127.0.0.1',
    ]);
    if (r.code !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  }
  const certPem = readFileSync(cert, 'utf8');
  const keyPem = readFileSync(key, 'utf8');
  writeFileSync(combined, certPem + keyPem);
  return { cert, key, combined, certPem, keyPem };
}
