// A rolling update of one Gateway's data plane in miniature, without a cluster: two `portico
// dataplane` processes (the old pod and the new one, on 127.0.0.2 and 127.0.0.3 with the same
// IR port) behind a TCP front that sends each new connection to a ready endpoint and keeps
// established ones where they are, as kube-proxy's rules and conntrack do. Under a keep-alive
// load loop, the new pod becomes ready and joins, the old one leaves the endpoints and gets
// SIGTERM: its keep-alive connections end after their next response, the clients reconnect to
// the new pod, and no request fails. (test/k8s/provisioned-rollout.test.ts does the same on the
// local cluster, through a real Service.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { IR } from '../../src/ir/types.js';
import { deriveGatewayKey } from '../../src/sync/credentials.js';
import { start, type Running } from '../e2e/cli.js';
import { echoBackend, freePort } from '../dataplane/helpers.js';
import { credentialsDir, gatewayIR, master, startServer, tcpFront, until } from './helpers.js';

const A = 'team-a/gw';

/** The Service: new connections go to the ready endpoints in turn; established ones stay put. */
async function service(listenPort: number): Promise<{ port: number; endpoints: string[]; close(): Promise<void> }> {
  const endpoints: string[] = [];
  const front = await tcpFront(() => endpoints.map((host) => ({ host, port: listenPort })));
  return { ...front, endpoints };
}

async function ready(health: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    http.get({ host, port: health, path: '/readyz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    }).on('error', () => resolve(false));
  });
}

test('a rolling update of a data plane under keep-alive load loses no request', async (t) => {
  const { server, port: syncPort } = await startServer();
  t.after(() => server.close());
  const backend = await echoBackend('one');
  t.after(() => backend.close());
  const listen = await freePort();
  // The Gateway listens on 0.0.0.0 (as provisioned); each pod binds it to its own address.
  const base = gatewayIR(A, listen, backend.port, 'v1');
  const ir: IR = { ...base, ports: base.ports.map((p) => ({ ...p, name: `0.0.0.0:${listen}/HTTP`, address: '0.0.0.0' })) };
  server.publish(ir);
  const creds = credentialsDir(deriveGatewayKey(master, A));
  const pods: Record<string, { ip: string; health: number; dp: Running }> = {};
  const pod = async (name: string, ip: string) => {
    const health = await freePort();
    const dp = start(['dataplane', `--controller=127.0.0.1:${syncPort}`, `--gateway=${A}`, `--credentials=${creds}`, `--health=${ip}:${health}`, `--pod=${name}`, `--bind-address=${ip}`, '--drain-delay=1500ms', '--drain-timeout=5s']);
    t.after(() => dp.stop());
    pods[name] = { ip, health, dp };
    await until(() => ready(health, ip), `${name} ready`);
  };

  const svc = await service(listen);
  t.after(() => svc.close());
  await pod('old', '127.0.0.2');
  svc.endpoints.push('127.0.0.2');

  // The load: 4 clients on one keep-alive agent, one request after another, nothing retried.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let ok = 0;
  const failures: string[] = [];
  let stopping = false;
  const loops = Array.from({ length: 4 }, async () => {
    while (!stopping) {
      await new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: svc.port, path: '/x', agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) ok++;
            else failures.push(`status ${res.statusCode}`);
            resolve();
          });
        });
        req.on('error', (e) => {
          failures.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`);
          resolve();
        });
      });
      await new Promise((r) => setTimeout(r, 2));
    }
  });
  t.after(() => {
    stopping = true;
    agent.destroy();
  });

  await until(() => ok > 200, 'load through the old pod');
  // The rollout: the new pod starts and joins once ready; the old leaves the endpoints, then gets SIGTERM.
  await pod('new', '127.0.0.3');
  svc.endpoints.push('127.0.0.3');
  const beforeSwitch = ok;
  await until(() => ok > beforeSwitch + 200, 'load through both');
  svc.endpoints.splice(svc.endpoints.indexOf('127.0.0.2'), 1);
  const exited = new Promise<number | null>((r) => pods.old!.dp.child.once('exit', (code) => r(code)));
  pods.old!.dp.child.kill('SIGTERM');
  assert.equal(await exited, 0, 'the old pod drained and exited');
  const afterExit = ok;
  await until(() => ok > afterExit + 200, 'load through the new pod alone');
  stopping = true;
  await Promise.all(loops);
  assert.deepEqual(failures, [], `lost requests (of ${ok + failures.length})`);
  assert.match(pods.old!.dp.output(), /drained, exiting/);
  assert.ok(ok > 600, `${ok} requests served`);
});
