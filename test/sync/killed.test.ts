// The controller process is SIGKILLed: the data plane keeps serving its last config, then
// resyncs with a new controller (new epoch) that has a newer config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deriveGatewayKey } from '../../src/sync/credentials.js';
import { echoBackend, freePort, request } from '../dataplane/helpers.js';
import { start } from '../e2e/cli.js';
import { credentialsDir, gatewayIR, master, startServer, until } from './helpers.js';

const FIXTURE = fileURLToPath(new URL('./controller-fixture.ts', import.meta.url));
const A = 'team-a/gw';

test('controller killed: traffic keeps flowing; a new controller with a newer config is picked up', { timeout: 60_000 }, async () => {
  const backend = await echoBackend('one');
  const listen = await freePort();
  const controller = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, SYNC_MASTER: master.toString('hex'), SYNC_GATEWAYS: A, SYNC_IR: JSON.stringify(gatewayIR(A, listen, backend.port, 'from-first')) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  controller.stdout!.on('data', (d) => (out += d));
  const gone = new Promise((r) => controller.on('exit', r));
  await until(() => /listening \d+/.test(out), 'controller up', 30_000);
  const syncPort = Number(/listening (\d+)/.exec(out)![1]);
  const dp = start(['dataplane', `--controller=127.0.0.1:${syncPort}`, `--gateway=${A}`, `--credentials=${credentialsDir(deriveGatewayKey(master, A))}`, '--drain-delay=0s', '--drain-timeout=2s']);
  try {
    await dp.waitFor(/applied version 1 /, 30_000);
    assert.equal((await request(listen, '/')).headers['x-config'], 'from-first');
    controller.kill('SIGKILL');
    await gone;
    await dp.waitFor(/stream to .* closed.*still serving version 1/);
    for (let i = 0; i < 10; i++) assert.equal((await request(listen, `/alone/${i}`)).headers['x-config'], 'from-first');
    const { server } = await startServer({ port: syncPort });
    try {
      server.publish(gatewayIR(A, listen, backend.port, 'from-second'));
      await until(async () => (await request(listen, '/back')).headers['x-config'] === 'from-second', 'resync', 20_000);
      await until(() => server.status(A).clients[0]?.acked?.version === 1, 'ack to the new controller');
    } finally {
      assert.equal(await dp.stop(), 0);
      await server.close();
    }
  } finally {
    controller.kill('SIGKILL');
    await dp.stop('SIGKILL');
    await backend.close();
  }
});
