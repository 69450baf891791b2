// A stand-in controller process for test/sync/killed.test.ts: a SyncServer publishing the IR
// in $SYNC_IR (JSON) with keys derived from $SYNC_MASTER (hex) for the Gateways in $SYNC_GATEWAYS.
// Prints "listening <port>" once it accepts connections. Killed with SIGKILL by the test.
import { deriveGatewayKey } from '../../src/sync/credentials.js';
import { SyncServer } from '../../src/sync/server.js';
import type { IR } from '../../src/ir/types.js';

const master = Buffer.from(process.env.SYNC_MASTER ?? '', 'hex');
const gateways = (process.env.SYNC_GATEWAYS ?? '').split(',');
const server = new SyncServer({ keyFor: (g) => (gateways.includes(g) ? deriveGatewayKey(master, g) : undefined), host: '127.0.0.1', port: Number(process.env.SYNC_PORT ?? 0) });
const { port } = await server.listen();
server.publish(JSON.parse(process.env.SYNC_IR ?? '{"ports":[],"clusters":{}}') as IR);
process.stdout.write(`listening ${port}\n`);
