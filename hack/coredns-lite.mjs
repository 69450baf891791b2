#!/usr/bin/env node
// Stands in for the CoreDNS image (registry.k8s.io/coredns/coredns) that the conformance suite's
// UDPRoute tests use as their UDP backend: hack/podrunner.mjs has no container runtime, so it runs
// this for a coredns container, with the container's args (`-conf <Corefile>`).
//
// It reads the Corefile's server blocks (`zone[:port] { plugins }`) and answers over UDP, bound
// to $POD_IP: a query in a zone with the `whoami` plugin gets what CoreDNS's whoami returns (an A
// or AAAA record holding the client's address, and an SRV record `_udp.<name>` with its port);
// any other query gets REFUSED (the suite's `forward . 8.8.8.8` has no upstream to reach here).
//
//   POD_IP=10.244.0.5 node hack/coredns-lite.mjs -conf /path/to/Corefile

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';

const confIdx = process.argv.indexOf('-conf');
const conf = confIdx > 0 ? process.argv[confIdx + 1] : 'Corefile';
const host = process.env.POD_IP || '0.0.0.0';

/** Server blocks: [{ zone: 'foo.bar.com.', port: 53, plugins: ['whoami'] }] */
function parseCorefile(text) {
  const blocks = [];
  const re = /([^\s{}]+)\s*\{([^}]*)\}/g;
  let m;
  while ((m = re.exec(text.replace(/#.*$/gm, '')))) {
    const plugins = m[2].split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
    for (const key of m[1].split(',')) {
      const [zone, port] = key.replace(/^dns:\/\//, '').split(':');
      blocks.push({ zone: zone === '.' ? '.' : zone.replace(/\.?$/, '.').toLowerCase(), port: Number(port || 53), plugins });
    }
  }
  return blocks;
}

function readName(msg, off) {
  const labels = [];
  while (off < msg.length && msg[off] !== 0) {
    if ((msg[off] & 0xc0) !== 0) throw new Error('compressed name in a question');
    labels.push(msg.subarray(off + 1, off + 1 + msg[off]).toString('latin1'));
    off += msg[off] + 1;
  }
  return { name: labels.join('.') + '.', end: off + 1 };
}

function encodeName(name) {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])), Buffer.from([0])]);
}

function rr(name, type, rdata) {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(1, 2); // class IN
  fixed.writeUInt32BE(0, 4); // TTL 0, as whoami
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([name, fixed, rdata]);
}

function ipBytes(ip) {
  if (isIPv4(ip)) return { type: 1, data: Buffer.from(ip.split('.').map(Number)) };
  const full = ip.includes('::') ? ip.replace('::', ':' + '0:'.repeat(8 - ip.split(':').filter(Boolean).length)) : ip;
  const b = Buffer.alloc(16);
  full.split(':').filter(Boolean).forEach((h, i) => b.writeUInt16BE(parseInt(h, 16), i * 2));
  return { type: 28, data: b };
}

/** The reply to one query datagram, or undefined when it is not a query worth answering. */
export function answer(query, zones, client) {
  if (query.length < 12 || (query[2] & 0x80) !== 0 || query.readUInt16BE(4) !== 1) return undefined;
  const { name, end } = readName(query, 12);
  const question = query.subarray(12, end + 4);
  const zone = zones
    .filter((z) => z.zone === '.' || name.toLowerCase() === z.zone || name.toLowerCase().endsWith('.' + z.zone))
    .sort((a, b) => b.zone.length - a.zone.length)[0];
  const whoami = zone?.plugins.includes('whoami');
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // id
  header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (whoami ? 0 : 5), 2); // QR AA, RD copied; REFUSED
  header.writeUInt16BE(1, 4);
  if (!whoami) return Buffer.concat([header, question]);
  const owner = encodeName(name);
  const addr = ipBytes(client.address.replace(/^::ffff:/, ''));
  const srv = Buffer.concat([Buffer.from([0, 0, 0, 0, client.port >> 8, client.port & 0xff]), owner]);
  header.writeUInt16BE(1, 6);
  header.writeUInt16BE(1, 10);
  return Buffer.concat([header, question, rr(owner, addr.type, addr.data), rr(encodeName('_udp.' + name), 33, srv)]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const blocks = parseCorefile(readFileSync(conf, 'utf8'));
  for (const port of new Set(blocks.map((b) => b.port))) {
    const zones = blocks.filter((b) => b.port === port);
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.on('message', (msg, rinfo) => {
      try {
        const reply = answer(msg, zones, rinfo);
        if (reply) sock.send(reply, rinfo.port, rinfo.address);
      } catch (err) {
        console.log(`bad query from ${rinfo.address}:${rinfo.port}: ${err.message}`);
      }
    });
    sock.bind(port, host, () => console.log(`coredns-lite listening on ${host}:${port} for ${zones.map((z) => `${z.zone} (${z.plugins.join(' ')})`).join(', ')}`));
  }
}
