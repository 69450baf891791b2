// What every proxy runner needs: where to write configs and logs, the ports, the certificate.

import type { CertFiles } from './certs.js';
import type { Ports } from './scenarios.js';

export interface BenchContext {
  /** bench/.run: generated configs, logs, temp files (git-ignored). */
  runDir: string;
  /** Repository root, for building and starting Portico. */
  repoDir: string;
  ports: Ports;
  cert: CertFiles;
  /** Directory with the 1 MiB file the backend serves. */
  wwwDir: string;
  /** Worker processes (threads for HAProxy) of every proxy and of the backend; 1 by default. */
  workers: number;
}

/** Header work every proxy does on every request, so the comparison is like for like. */
export const FORWARDED_HEADERS = ['X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host'] as const;
