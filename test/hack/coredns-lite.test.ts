// hack/coredns-lite.mjs, the CoreDNS stand-in behind the conformance suite's UDPRoute tests: run
// as hack/podrunner.mjs runs it (its Corefile, bound to POD_IP) and queried over real UDP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../hack/coredns-lite.mjs', import.meta.url));

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function query(id: number, name: string, type = 1): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4);
  const labels = name.replace(/\.$/, '').split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(1, 2);
  return Buffer.concat([header, ...labels, Buffer.from([0]), tail]);
}

async function exchange(port: number, msg: Buffer): Promise<{ reply: Buffer; clientPort: number }> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  try {
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no DNS reply within 2 s')), 2000);
      s.once('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
      s.send(msg, port, '127.0.0.1');
    });
    return { reply, clientPort: s.address().port };
  } finally {
    s.close();
  }
}

let child: ChildProcess;
let port: number;
let dir: string;

before(async () => {
  port = await freeUdpPort();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coredns-lite-'));
  // The suite's Corefile (conformance/base/manifests.yaml), on a free port.
  fs.writeFileSync(path.join(dir, 'Corefile'), `.:${port} {\n    forward . 8.8.8.8 9.9.9.9\n    log\n    errors\n}\nfoo.bar.com:${port} {\n  whoami\n}\n`);
  child = spawn(process.execPath, [SCRIPT, '-conf', path.join(dir, 'Corefile')], { env: { ...process.env, POD_IP: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`coredns-lite exited with ${code}`)));
  });
});

after(() => {
  child?.kill();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a query in a whoami zone gets the client address (A) and port (SRV _udp.<name>)', async () => {
  const { reply, clientPort } = await exchange(port, query(0x1234, 'foo.bar.com.'));
  assert.equal(reply.readUInt16BE(0), 0x1234, 'id echoed');
  const flags = reply.readUInt16BE(2);
  assert.equal(flags & 0x8000, 0x8000, 'QR set');
  assert.equal(flags & 0x0100, 0x0100, 'RD copied');
  assert.equal(flags & 0x000f, 0, 'NOERROR');
  assert.deepEqual([reply.readUInt16BE(4), reply.readUInt16BE(6), reply.readUInt16BE(8), reply.readUInt16BE(10)], [1, 1, 0, 1]);
  // question: 3foo3bar3com0 + type/class = 13 + 4 bytes after the header
  let off = 12 + 13 + 4;
  // answer: owner name (13 bytes), type A, class IN, TTL, rdlength 4, address
  off += 13;
  assert.equal(reply.readUInt16BE(off), 1, 'type A');
  assert.equal(reply.readUInt16BE(off + 8), 4);
  assert.equal([...reply.subarray(off + 10, off + 14)].join('.'), '127.0.0.1');
  off += 14;
  // additional: _udp.foo.bar.com SRV priority 0 weight 0 port <client port>
  assert.equal(reply.subarray(off, off + 5).toString('latin1'), '\x04_udp');
  off += 18;
  assert.equal(reply.readUInt16BE(off), 33, 'type SRV');
  assert.equal(reply.readUInt16BE(off + 14), clientPort);
});

test('a query outside every whoami zone is REFUSED (no upstream to forward to), with the question echoed', async () => {
  const q = query(7, 'example.com.');
  const { reply } = await exchange(port, q);
  assert.equal(reply.readUInt16BE(0), 7);
  assert.equal(reply.readUInt16BE(2) & 0x000f, 5, 'REFUSED');
  assert.equal(reply.readUInt16BE(6), 0, 'no answer');
  assert.deepEqual(reply.subarray(12), q.subarray(12), 'question echoed');
});

test('a response datagram sent to it is not answered (no reflection loop)', async () => {
  const q = query(9, 'foo.bar.com.');
  q.writeUInt16BE(0x8100, 2); // QR set: a response, not a query
  await assert.rejects(exchange(port, q), /no DNS reply/);
});
