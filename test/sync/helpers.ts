// Shared pieces of the config stream tests: per-Gateway keys, a server, IRs for two Gateways, a TCP front.
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Cluster, IR, Listener, Port } from '../../src/ir/types.js';
import { deriveGatewayKey, encodeKey, PSK_FILE } from '../../src/sync/credentials.js';
import { SyncServer, type SyncServerOptions } from '../../src/sync/server.js';
import { SyncClient, type SyncClientOptions } from '../../src/sync/client.js';

export const master = randomBytes(32);
export const GATEWAYS = ['team-a/gw', 'team-b/gw'];

/** keyFor as the controller would: derived keys, only for Gateways it knows. */
export const keyFor = (gateway: string): Buffer | undefined => (GATEWAYS.includes(gateway) ? deriveGatewayKey(master, gateway) : undefined);

/** A credentials folder as the mounted Secret gives it (`psk`). */
export function credentialsDir(key: Buffer): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'portico-sync-'));
  writeFileSync(path.join(dir, PSK_FILE), encodeKey(key) + '\n');
  return dir;
}

export async function startServer(extra: Partial<SyncServerOptions> = {}): Promise<{ server: SyncServer; port: number }> {
  const server = new SyncServer({ keyFor, host: '127.0.0.1', ...extra });
  const { port } = await server.listen();
  return { server, port };
}

/** A data plane's client for `gateway` with its key, started: what it applied and what it logged, in order. */
export function startClient(port: number, gateway: string, extra: Partial<SyncClientOptions> = {}): { c: SyncClient; applied: IR[]; logs: string[] } {
  const applied: IR[] = [];
  const logs: string[] = [];
  const c = new SyncClient({
    host: '127.0.0.1',
    port,
    gateway,
    pod: `${gateway.split('/')[0]}-pod`,
    key: async () => deriveGatewayKey(master, gateway),
    apply: async (ir) => {
      applied.push(ir);
      return { unbound: [] };
    },
    log: (_level, l) => logs.push(l),
    backoff: { initialMs: 20, maxMs: 200 },
    ...extra,
  });
  c.start();
  return { c, applied, logs };
}

const cl = (name: string, port: number): Cluster => ({ name, protocol: 'http1', endpoints: [{ address: '127.0.0.1', port }] });

/** One HTTP port for `gateway` on 127.0.0.1:`listen`: path prefix `/` to cluster `<ns>/backend:80` at `backendPort`, with a response header naming `tag`. */
export function gatewayIR(gateway: string, listen: number, backendPort: number, tag: string): IR {
  const ns = gateway.split('/')[0]!;
  const clusterName = `${ns}/backend:80`;
  const listener: Listener = {
    name: `${gateway}/http`,
    protocol: 'HTTP',
    virtualHosts: [
      {
        hostname: '*',
        routes: [
          {
            source: { kind: 'HTTPRoute', namespace: ns, name: 'r', rule: 0 },
            match: { path: { type: 'PathPrefix', value: '/' } },
            filters: [{ type: 'ResponseHeaderModifier', modifier: { set: [{ name: 'x-config', value: tag }] } }],
            backends: [{ cluster: clusterName, weight: 1 }],
          },
        ],
      },
    ],
  };
  const port: Port = { name: `127.0.0.1:${listen}/HTTP`, address: '127.0.0.1', port: listen, protocol: 'HTTP', listeners: [listener] };
  return { ports: [port], clusters: { [clusterName]: cl(clusterName, backendPort) } };
}

/** Two IRs merged as the controller's full IR would hold them. */
export function merge(...irs: IR[]): IR {
  const ports = irs.flatMap((i) => i.ports).sort((a, b) => a.name.localeCompare(b.name));
  const clusters = Object.fromEntries(irs.flatMap((i) => Object.entries(i.clusters)).sort(([a], [b]) => a.localeCompare(b)));
  return { ports, clusters };
}

export async function until(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A TCP front standing in for a Service: each new connection goes to the next of `targets()` in
 * turn (refused when there is none); established connections stay where they are, as kube-proxy's
 * rules and conntrack do.
 */
export async function tcpFront(targets: () => readonly { host: string; port: number }[]): Promise<{ port: number; down(): number; close(): Promise<void> }> {
  let n = 0;
  /** Bytes the targets sent back through the front. */
  let down = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    const all = targets();
    if (all.length === 0) return void c.destroy();
    const to = all[n++ % all.length]!;
    const up = net.connect(to.port, to.host);
    up.on('data', (d: Buffer) => (down += d.length));
    for (const s of [c, up]) {
      sockets.add(s);
      s.on('error', () => undefined).on('close', () => {
        sockets.delete(s);
        c.destroy();
        up.destroy();
      });
    }
    c.pipe(up).pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    down: () => down,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}
