// Where each Gateway listens. In loopback mode (local cluster, conformance) every Gateway
// gets its own 127.x.y.z, so two Gateways may both use port 80 on one machine: the address
// is derived from namespace/name (the same Gateway gets the same address across restarts)
// and collision-checked against the other Gateways this process has placed.

import * as net from 'node:net';
import * as os from 'node:os';

export interface Ipv4Range {
  base: number; // network address as an unsigned 32-bit integer
  size: number; // number of addresses in the range
}

export function parseCidr(cidr: string): Ipv4Range {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m) throw new Error(`"${cidr}" is not an IPv4 CIDR such as 127.64.0.0/16`);
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 30 || bits < 8) {
    throw new Error(`"${cidr}": octets must be 0-255 and the prefix /8../30`);
  }
  const ip = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const size = 2 ** (32 - bits);
  return { base: (ip - (ip % size)) >>> 0, size };
}

function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** FNV-1a, 32 bit: cheap, well spread, and the same in every Node version. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class LoopbackAllocator {
  private readonly range: Ipv4Range;
  private readonly byGateway = new Map<string, string>();
  private readonly owner = new Map<string, string>();

  constructor(cidr = '127.64.0.0/16') {
    this.range = parseCidr(cidr);
    if (this.range.base >>> 24 !== 127) throw new Error(`loopback range ${cidr} is not inside 127.0.0.0/8`);
  }

  addressFor = (namespace: string, name: string): string => {
    const key = `${namespace}/${name}`;
    const known = this.byGateway.get(key);
    if (known) return known;
    // skip the range's first and last address (network/broadcast-looking, and x.x.x.0 confuses people)
    const usable = this.range.size - 2;
    if (this.byGateway.size >= usable) throw new Error(`loopback range exhausted (${usable} Gateways)`);
    const start = fnv1a(key) % usable;
    for (let i = 0; i < usable; i++) {
      const ip = formatIp(this.range.base + 1 + ((start + i) % usable));
      if (!this.owner.has(ip)) {
        this.owner.set(ip, key);
        this.byGateway.set(key, ip);
        return ip;
      }
    }
    throw new Error('unreachable: loopback range exhausted');
  };
}

/**
 * Which spec.addresses a data plane on this machine can bind: the wildcards, all of
 * 127.0.0.0/8 and ::1 (Linux answers on the whole loopback net), and the addresses of the
 * interfaces as they are now. Called once per rebuild, so one translation sees one answer
 * (the translator needs a deterministic predicate) and a new interface address counts from
 * the next rebuild on.
 */
export function machineAddressUsable(interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces()): (ip: string) => boolean {
  const list = new net.BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('0.0.0.0', 'ipv4');
  list.addAddress('::', 'ipv6');
  list.addAddress('::1', 'ipv6');
  for (const infos of Object.values(interfaces)) {
    for (const i of infos ?? []) {
      // Link-local IPv6 needs a scope id to bind; a bare fe80:: value cannot name one.
      if (i.family === 'IPv6' && i.scopeid) continue;
      list.addAddress(i.address, i.family === 'IPv6' ? 'ipv6' : 'ipv4');
    }
  }
  return (ip) => {
    const family = net.isIP(ip);
    return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/**
 * machineAddressUsable(), called once per rebuild, but the same function for as long as the
 * interfaces' addresses stay the same: translate/incremental.ts compares options by identity,
 * and a new function each rebuild would make every rebuild a full translation.
 */
export function stableMachineAddressUsable(): () => (ip: string) => boolean {
  let last: { key: string; usable: (ip: string) => boolean } | undefined;
  return () => {
    const interfaces = os.networkInterfaces();
    const key = JSON.stringify(interfaces);
    if (last?.key !== key) last = { key, usable: machineAddressUsable(interfaces) };
    return last.usable;
  };
}
