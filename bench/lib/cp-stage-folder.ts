// The control-plane bench's manifest set (./cp-manifests.ts) in a fresh folder, for the scripts
// that replay a change stage by stage in one process (bench/cp-stages.ts, bench/cp-sync-stages.ts).
// Each file is written as a change reaches the file source (renamed into place), and the folder
// keeps the paths written since they were last taken: what the watcher names to FileLoader.load.

import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCert } from './certs.js';
import { secondCert } from './control-plane.js';
import { cpBase, cpEndpoints, cpEpsProbe, cpGateway, cpRoutes, cpSecret, type CpPorts } from './cp-manifests.js';
import { toYaml } from './manifests.js';

export interface StageFolder {
  dir: string;
  p: CpPorts;
  /** The bench's certificate and the one a Secret change rotates to. */
  certs: { certPem: string; keyPem: string }[];
  put(file: string, docs: Record<string, unknown>[]): void;
  /** The paths written since the last call (none after the set-up's first load reads everything). */
  takeWritten(): string[];
  remove(): void;
}

/** `routes` routes (each on a hostname of its own with `ownHosts`) and their Gateway, Secret, Services and EndpointSlices. */
export async function stageFolder(name: string, routes: number, ownHosts: boolean): Promise<StageFolder> {
  const dir = mkdtempSync(join(tmpdir(), `portico-${name}-`));
  const certDir = mkdtempSync(join(tmpdir(), `portico-${name}-certs-`));
  const certs = [await ensureCert(certDir), await secondCert(certDir)];
  let written: string[] = [];
  const put = (file: string, docs: Record<string, unknown>[]) => {
    writeFileSync(join(dir, `${file}.tmp`), toYaml(docs));
    renameSync(join(dir, `${file}.tmp`), join(dir, file));
    written.push(join(dir, `${file}.tmp`), join(dir, file));
  };
  const p: CpPorts = { http: 31020, https: 31021, moved: [31022, 31023], backend: 31100, closed: 31101 };
  put('base.yaml', cpBase(p));
  put('gateway.yaml', cpGateway(p, 0));
  put('secret.yaml', cpSecret(certs[0]!.certPem, certs[0]!.keyPem));
  put('endpoints.yaml', cpEndpoints(routes));
  put('routes.yaml', cpRoutes(routes, p.backend, ownHosts));
  put('eps-probe.yaml', cpEpsProbe(p, true));
  written = [];
  return {
    dir,
    p,
    certs,
    put,
    takeWritten() {
      const out = written;
      written = [];
      return out;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
      rmSync(certDir, { recursive: true, force: true });
    },
  };
}
