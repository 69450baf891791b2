// The provisioned data plane's side of a change (controller mode, `--dataplane provisioned`): the
// controller publishes each translation to its SyncServer, and every data-plane pod's SyncClient
// applies what it receives (src/sync/). This replays the control-plane bench's manifest set
// (bench/lib/cp-manifests.ts) through a real SyncServer and SyncClient over loopback TLS-PSK,
// in one process, the client's apply building the RuntimeConfig the engine would swap in; and
// times each route change from publish() until that apply returned, with the bytes the server
// sent, once for a client that takes deltas and once for one that takes whole snapshots (what
// every pod got before 2026-12-02). Not the whole path: no Kubernetes, no sockets served.
//
//   node --import tsx bench/cp-sync-stages.ts [routes=10000] [changes=10] [hosts]

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { FileLoader } from '../src/sources/files.js';
import { Snapshot } from '../src/store/snapshot.js';
import { translate } from '../src/translate/index.js';
import { incrementalTranslate } from '../src/translate/incremental.js';
import { RuntimeConfig } from '../src/dataplane/config.js';
import { DataplaneMetrics } from '../src/observability/metrics/dataplane.js';
import { SyncServer } from '../src/sync/server.js';
import { SyncClient } from '../src/sync/client.js';
import { deriveGatewayKey } from '../src/sync/credentials.js';
import type { IR } from '../src/ir/types.js';
import { cpAddedRoute } from './lib/cp-manifests.js';
import { stageFolder } from './lib/cp-stage-folder.js';
import { percentile } from './lib/cp-probe.js';

const routes = Number(process.argv[2] ?? 10_000);
const changes = Number(process.argv[3] ?? 10);
const ownHosts = process.argv[4] === 'hosts';
const GATEWAY = 'bench/bench';
const master = Buffer.alloc(32, 7);

const folder = await stageFolder('cp-sync', routes, ownHosts);
const { dir, p, put } = folder;
const loader = new FileLoader([dir]);
const inc = incrementalTranslate(translate);
const options = { addressFor: () => '0.0.0.0', addressUsable: () => true, sessionSeed: 'cp-sync' };
let snapshot = new Snapshot((await loader.load()).byKey!);
let ir = inc(snapshot, options).ir;

/** A relay in front of the server, counting what the server sends. */
async function relay(to: number): Promise<{ port: number; bytes: () => number }> {
  let bytes = 0;
  const server = net.createServer((c) => {
    const up = net.connect(to, '127.0.0.1');
    up.on('data', (d: Buffer) => (bytes += d.length));
    c.on('error', () => undefined);
    up.on('error', () => undefined);
    c.pipe(up).pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  server.unref();
  return { port: (server.address() as net.AddressInfo).port, bytes: () => bytes };
}

const server = new SyncServer({ keyFor: (g) => (g === GATEWAY ? deriveGatewayKey(master, g) : undefined), host: '127.0.0.1' });
const { port } = await server.listen();
server.publish(ir);

interface Side {
  applied: number;
  config: RuntimeConfig | undefined;
  waiters: (() => void)[];
}

/** One data plane at a time, so each series is its own (one thread: two would wait on each other). */
async function series(deltas: boolean, from: number): Promise<{ ms: number[]; bytes: number[] }> {
  const r = await relay(port);
  const metrics = new DataplaneMetrics();
  const s: Side = { applied: 0, config: undefined, waiters: [] };
  const next = () => new Promise<void>((res) => s.waiters.push(res));
  const client = new SyncClient({
    host: '127.0.0.1',
    port: r.port,
    gateway: GATEWAY,
    deltas,
    key: async () => deriveGatewayKey(master, GATEWAY),
    apply: async (x: IR) => {
      s.config = new RuntimeConfig(x, s.config, metrics);
      s.applied++;
      for (const w of s.waiters.splice(0)) w();
      return { unbound: [] };
    },
  });
  client.start();
  while (s.applied === 0) await next();
  const out = { ms: [] as number[], bytes: [] as number[] };
  for (let k = from; k < from + changes; k++) {
    const path = `/added-${k}`;
    put(`added-${k}.yaml`, [cpAddedRoute(`added-${k}`, path, p.backend, ownHosts)]);
    snapshot = new Snapshot((await loader.load(folder.takeWritten())).byKey!, snapshot);
    ir = inc(snapshot, options).ir;
    const applied = s.applied;
    const bytes = r.bytes();
    const t0 = performance.now();
    server.publish(ir);
    while (s.applied === applied) await next();
    out.ms.push(performance.now() - t0);
    out.bytes.push(r.bytes() - bytes);
  }
  await client.close();
  while (server.status(GATEWAY).clients.length > 0) await new Promise((res) => setTimeout(res, 10));
  return out;
}

const med = (xs: number[]) => percentile(xs, 50)!;
console.log(`route change at ${routes} routes${ownHosts ? ', a hostname each' : ''}, ${changes} changes each: publish() until the data plane's RuntimeConfig is built`);
for (const [name, deltas, from] of [['deltas', true, 0], ['whole snapshots', false, changes]] as const) {
  const r = await series(deltas, from);
  console.log(`${name.padEnd(16)} median ${med(r.ms).toFixed(1)} ms (each: ${r.ms.map((x) => x.toFixed(0)).join(' ')}), ${(med(r.bytes) / 1024).toFixed(1)} KiB sent per change`);
}
folder.remove();
process.exit(0);
