// The HTTP desync corpus of crates.io http_desync_guardian 0.1.3 (its tests/*.yaml: 159 request
// heads classed Compliant, Acceptable, Ambiguous, Severe) sent to a Portico HTTP listener whose
// only route leads to a recording backend. See README.md for the bar and the framing check.
//
//   node --import tsx test/protocols/desync/runner.ts <corpus tests dir> <work dir> <portico port> <backend port>
//
// run.sh fetches the corpus, starts Portico on fixture/ and calls this; this starts the backend.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse } from 'yaml';

const [corpusDir, workDir, porticoPortArg, backendPortArg] = process.argv.slice(2);
if (!corpusDir || !workDir || !porticoPortArg || !backendPortArg) {
  process.stderr.write('usage: runner.ts <corpus tests dir> <work dir> <portico port> <backend port>\n');
  process.exit(2);
}
const PORTICO_PORT = Number(porticoPortArg);
const BACKEND_PORT = Number(backendPortArg);

/** The crate's own order (request_analyzer.rs `file_tests`). */
const FILES = ['single-case', 'edge-cases', 'rfc-compliant', 'acceptable', 'ambiguous', 'bad-header-characters', 'more-compliant-tests', 'severe', 'uri-specific-test-cases', 'real-life-test-cases'];
const TIERS = ['Compliant', 'Acceptable', 'Ambiguous', 'Severe'] as const;
type Tier = (typeof TIERS)[number];

/** Added when a case has no Host header: HTTP/1.1 requires one (RFC 9112 3.2), and without it every request would be a 400 for that reason alone. */
const HOST_LINE = 'Host: desync.portico.test\r\n';

/**
 * Compliant cases Portico rejects on purpose, each with its reason. They pass only while they
 * get a 400 and reach nothing; any other outcome fails the bar, so the list cannot go stale.
 */
const REJECTED_BY_DESIGN: Record<string, string> = {
  'rfc-compliant.yaml#13':
    'empty request-target ("GET  HTTP/1.1"): RFC 9112 3.2 requires one; nginx reads "HTTP/1.1" as the target, llhttp and Envoy reject, so forwarding it would be the ambiguous choice',
};

interface Case {
  id: string;
  name: string;
  tier: Tier;
  reason: string;
  bytes: Buffer;
  hostAdded: boolean;
}

/** The crate's test harness unescape (request_analyzer.rs `unescape_value`), applied after YAML parsing. */
function unescape(s: string): string {
  let r = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '\\') {
      r += ch;
      continue;
    }
    const n = s[++i];
    if (n === 'x') {
      r += String.fromCharCode(parseInt(s.substr(i + 1, 2), 16));
      i += 2;
    } else r += ({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' } as Record<string, string>)[n!] ?? n;
  }
  return r;
}

/**
 * Bytes on the wire: a code point up to U+00FF is that byte (the corpus writes single bytes as
 * "\xNN" escapes, and has no literal characters in U+0080..U+00FF); anything above is UTF-8
 * (the Cyrillic path, "ı", "ſ", "―" in header names).
 */
function wire(s: string): Buffer {
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp <= 0xff) run += ch;
    else {
      parts.push(Buffer.from(run, 'latin1'), Buffer.from(ch, 'utf8'));
      run = '';
    }
  }
  parts.push(Buffer.from(run, 'latin1'));
  return Buffer.concat(parts);
}

function loadCases(): Case[] {
  const cases: Case[] = [];
  for (const f of FILES) {
    const file = path.join(corpusDir!, f + '.yaml');
    // failsafe: every scalar stays a string ("18446744073709551616" must not become a float).
    const docs = parse(fs.readFileSync(file, 'utf8'), { schema: 'failsafe' }) as Array<Record<string, unknown>>;
    docs.forEach((c, i) => {
      const headers = Array.isArray(c.headers) ? (c.headers as Array<Record<string, string>>) : []; // "headers:" with no items is 
      const expected = c.expected as Record<string, string>;
      // The request exactly as the crate's harness builds its raw request, plus Host when absent.
      const hasHost = headers.some((h) => unescape(h.name!).toLowerCase() === 'host');
      let s = `${unescape(c.method as string)} ${unescape(c.uri as string)} ${unescape(c.version as string)}\r\n`;
      if (!hasHost) s += HOST_LINE;
      for (const h of headers) s += `${unescape(h.name!)}: ${unescape(h.value!)}\r\n`;
      s += '\r\n';
      const tier = expected.tier as Tier;
      if (!TIERS.includes(tier)) throw new Error(`${f}.yaml#${i}: unknown tier ${tier}`);
      cases.push({ id: `${f}.yaml#${i}`, name: c.name as string, tier, reason: expected.reason!, bytes: wire(s), hostAdded: !hasHost });
    });
  }
  return cases;
}

// ---------------------------------------------------------------- recording backend

interface Recorded {
  seq: number;
  chunks: Buffer[];
}

const RESPONSE = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 9\r\nconnection: close\r\n\r\nrecorded\n';
const recorded: Recorded[] = [];
let seq = 0;
const backendSockets = new Set<net.Socket>();

/** Logs every byte of every connection; answers once a head is complete, then half-closes (and keeps recording). */
const backend = net.createServer({ allowHalfOpen: true }, (s) => {
  const rec: Recorded = { seq: ++seq, chunks: [] };
  recorded.push(rec);
  backendSockets.add(s);
  let answered = false;
  s.on('data', (d) => {
    rec.chunks.push(Buffer.from(d));
    if (!answered && Buffer.concat(rec.chunks).includes('\r\n\r\n')) {
      answered = true;
      s.end(RESPONSE, 'latin1');
    }
  });
  s.on('end', () => s.end());
  s.on('error', () => undefined);
  s.on('close', () => backendSockets.delete(s));
});

// ---------------------------------------------------------------- client

interface Answer {
  status: number;
  response: string;
  /** The server closed the connection (FIN or reset) after or instead of answering. */
  closed: boolean;
  timedOut: boolean;
  ms: number;
}

const RESPONSE_TIMEOUT_MS = 1500;
const CLOSE_WAIT_MS = 1000;

/** One request on a fresh connection; waits for a complete response, then (unless 2xx) for the close. */
function send(bytes: Buffer, head: boolean): Promise<Answer> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const sock = net.connect(PORTICO_PORT, '127.0.0.1');
    let got = Buffer.alloc(0);
    let closed = false;
    let complete = false;
    let settled = false;
    let timer: NodeJS.Timeout;
    const finish = (timedOut: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const response = got.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      sock.destroy();
      resolve({ status: m ? Number(m[1]) : 0, response, closed, timedOut, ms: Date.now() - t0 });
    };
    timer = setTimeout(() => finish(!complete), RESPONSE_TIMEOUT_MS);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (complete) return;
      const s = got.toString('latin1');
      const end = s.indexOf('\r\n\r\n');
      if (end < 0) return;
      const cl = /\r\ncontent-length: *(\d+)/i.exec(s.slice(0, end));
      if (cl && !head && got.length < end + 4 + Number(cl[1])) return; // a response to HEAD has no body
      complete = true;
      const status = Number(s.slice(9, 12));
      if (status >= 200 && status < 300) return finish(false);
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), CLOSE_WAIT_MS);
    });
    const onClose = (): void => {
      closed = true;
      finish(false);
    };
    sock.on('end', onClose);
    sock.on('close', onClose);
    sock.on('error', () => undefined);
  });
}

// ---------------------------------------------------------------- the framing check

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CTL = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Letters and digits of a name, lower-cased: "Transfer_Encoding", "Content Length" spell a framing header. */
const spelling = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * Problems with the framing of what one backend connection received; none means unambiguous.
 * The corpus sends heads only, so everything must be one request head and nothing after it.
 */
export function framingProblems(bytes: Buffer): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  const s = bytes.toString('latin1');
  const end = s.indexOf('\r\n\r\n');
  if (end < 0) return { problems: ['no complete request head'], notes };
  const head = s.slice(0, end);
  const after = s.length - end - 4;
  if (after > 0) problems.push(`${after} byte(s) after the head, though the client sent no body: ${JSON.stringify(s.slice(end + 4, end + 84))}`);
  if (head.includes('\0')) problems.push('NUL in the head');
  if (/\r(?!\n)/.test(head)) problems.push('bare CR in the head');
  if (/(?<!\r)\n/.test(head)) problems.push('bare LF in the head');
  const lines = head.split('\r\n');
  const rl = /^([^ ]+) ([^ ]+) (HTTP\/1\.1)$/.exec(lines[0]!);
  if (!rl) problems.push(`request line is not "method SP target SP HTTP/1.1": ${JSON.stringify(lines[0])}`);
  else {
    if (!TOKEN.test(rl[1]!)) problems.push(`method is not a token: ${JSON.stringify(rl[1])}`);
    if (/[\x00-\x20\x7f]/.test(rl[2]!)) problems.push(`control byte or space in the target: ${JSON.stringify(rl[2])}`);
    if (/[\x80-\xff]/.test(rl[2]!)) notes.push('non-ASCII bytes in the target');
  }
  let cl = 0;
  let te = 0;
  let host = 0;
  for (const line of lines.slice(1)) {
    if (line.length === 0) {
      problems.push('empty line inside the head');
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      problems.push(`obs-fold (line starts with whitespace): ${JSON.stringify(line)}`);
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) {
      problems.push(`field name is not a token followed by ":": ${JSON.stringify(line)}`);
      continue;
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    const lname = name.toLowerCase();
    const framing = lname === 'content-length' || lname === 'transfer-encoding' || lname === 'host' || lname === 'connection';
    if (CTL.test(value)) (framing ? problems : notes).push(`control byte in the value of ${name}: ${JSON.stringify(value)}`);
    if (lname === 'content-length') {
      cl++;
      if (!/^[0-9]+$/.test(value)) problems.push(`Content-Length is not 1*DIGIT: ${JSON.stringify(value)}`);
    } else if (lname === 'transfer-encoding') {
      te++;
      const codings = value.toLowerCase().split(/[ \t]*,[ \t]*/);
      if (!codings.every((c) => TOKEN.test(c))) problems.push(`Transfer-Encoding is not a list of coding names: ${JSON.stringify(value)}`);
      else if (codings[codings.length - 1] !== 'chunked' || codings.indexOf('chunked') !== codings.length - 1)
        problems.push(`Transfer-Encoding does not end in exactly one "chunked": ${JSON.stringify(value)}`);
      else if (codings.length > 1) notes.push(`Transfer-Encoding: ${value}`);
    } else if (lname === 'host') host++;
    else if (spelling(name) === 'contentlength' || spelling(name) === 'transferencoding') problems.push(`field name spells a framing header: ${JSON.stringify(name)}`);
  }
  if (cl > 1) problems.push(`${cl} Content-Length fields`);
  if (te > 1) problems.push(`${te} Transfer-Encoding fields`);
  if (cl && te) problems.push('both Content-Length and Transfer-Encoding');
  if (host !== 1) problems.push(`${host} Host fields`);
  return { problems, notes };
}

/** The transfer-coding names of a head's Transfer-Encoding fields, in order, lower-case, parameters and empty elements dropped. */
function codingNames(s: string): string[] {
  const head = s.slice(0, Math.max(0, s.indexOf('\r\n\r\n')));
  const names: string[] = [];
  for (const line of head.split('\r\n').slice(1)) {
    const m = /^transfer-encoding:(.*)$/i.exec(line);
    if (!m) continue;
    for (const el of m[1]!.split(',')) {
      const name = el.split(';')[0]!.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase();
      if (name) names.push(name);
    }
  }
  return names;
}

// ---------------------------------------------------------------- run

interface Result {
  id: string;
  name: string;
  tier: Tier;
  reason: string;
  status: number;
  closed: boolean;
  timedOut: boolean;
  ms: number;
  forwarded: number;
  problems: string[];
  notes: string[];
  outcome: string;
  pass: boolean;
  why: string;
  sent: string;
  received: string[];
}

async function waitForPortico(): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(PORTICO_PORT, '127.0.0.1', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${PORTICO_PORT} after 30 s`);
    await sleep(100);
  }
}

function judge(c: Case, a: Answer, rec: Recorded[]): Result {
  const received = rec.map((r) => Buffer.concat(r.chunks)).filter((b) => b.length > 0);
  const problems: string[] = [];
  const notes: string[] = [];
  if (received.length > 1) problems.push(`${received.length} backend connections carried bytes for one client request`);
  for (const b of received) {
    const f = framingProblems(b);
    problems.push(...f.problems);
    notes.push(...f.notes);
    // Not framing, but a forwarded chunked request must keep the codings the client applied.
    const sent = codingNames(c.bytes.toString('latin1'));
    const got = codingNames(b.toString('latin1'));
    if (sent.length && got.length && sent.join(', ') !== got.join(', ')) problems.push(`transfer codings changed: sent ${sent.join(', ')}, forwarded ${got.join(', ')}`);
  }
  const forwarded = received.length;
  const rejected = forwarded === 0 && a.status >= 400;
  const outcome = forwarded
    ? `forwarded${problems.length ? ' AMBIGUOUS' : ' clean'}, client ${a.status || 'no answer'}`
    : rejected
      ? `rejected ${a.status}${a.closed ? ' + close' : ' (connection left open)'}`
      : a.status
        ? `answered ${a.status} locally`
        : 'no answer, nothing forwarded';
  let pass = true;
  let why = '';
  const designed = REJECTED_BY_DESIGN[c.id];
  switch (c.tier) {
    case 'Severe':
      pass = a.status === 400 && a.closed && forwarded === 0;
      if (!pass) why = 'Severe must get 400 and a closed connection, with nothing forwarded';
      break;
    case 'Ambiguous':
      pass = forwarded ? problems.length === 0 : a.status >= 400 && a.closed;
      if (!pass) why = forwarded ? 'forwarded with ambiguous framing' : 'neither forwarded nor rejected with a 4xx and close';
      break;
    case 'Compliant':
      if (designed) {
        pass = a.status === 400 && forwarded === 0;
        why = pass ? `rejected by design: ${designed}` : `listed as rejected by design but got: ${outcome}`;
      } else {
        pass = forwarded === 1 && problems.length === 0 && a.status === 200;
        if (!pass) why = 'Compliant must be forwarded with clean framing and answered 200';
      }
      break;
    case 'Acceptable':
      break; // reported only
  }
  return {
    id: c.id,
    name: c.name,
    tier: c.tier,
    reason: c.reason,
    status: a.status,
    closed: a.closed,
    timedOut: a.timedOut,
    ms: a.ms,
    forwarded,
    problems,
    notes,
    outcome,
    pass,
    why,
    sent: c.bytes.toString('latin1'),
    received: received.map((b) => b.toString('latin1')),
  };
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const cases = loadCases();
  if (cases.length !== 159) throw new Error(`expected 159 corpus requests, found ${cases.length}`);
  await new Promise<void>((r, j) => {
    backend.once('error', j);
    backend.listen(BACKEND_PORT, '127.0.0.1', r);
  });
  await waitForPortico();
  const results: Result[] = [];
  for (const c of cases) {
    const first = recorded.length;
    const a = await send(c.bytes, c.bytes.subarray(0, 5).toString('latin1') === 'HEAD ');
    await sleep(20); // a forwarded head reaches the backend before the client's answer; this covers a late stray one
    results.push(judge(c, a, recorded.slice(first)));
  }
  for (const s of backendSockets) s.destroy();
  backend.close();

  fs.mkdirSync(workDir!, { recursive: true });
  fs.writeFileSync(path.join(workDir!, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  const table = results.map(
    (r) =>
      `${r.pass ? 'ok  ' : 'FAIL'} ${r.tier.padEnd(10)} ${r.reason.padEnd(34)} ${r.id.padEnd(30)} ${r.outcome}${r.why ? ` -- ${r.why}` : ''}${
        r.problems.length ? `\n       problems: ${r.problems.join('; ')}` : ''
      }${r.notes.length ? `\n       notes: ${r.notes.join('; ')}` : ''}\n       ${JSON.stringify(r.name)}\n       sent: ${JSON.stringify(r.sent)}`,
  );
  fs.writeFileSync(path.join(workDir!, 'results.txt'), table.join('\n') + '\n');

  const of = (t: Tier): Result[] => results.filter((r) => r.tier === t);
  const count = (rs: Result[], f: (r: Result) => boolean): number => rs.filter(f).length;
  const sev = of('Severe');
  const amb = of('Ambiguous');
  const com = of('Compliant');
  const acc = of('Acceptable');
  const designed = count(com, (r) => r.id in REJECTED_BY_DESIGN && r.pass);
  const failed = results.filter((r) => !r.pass);
  for (const r of failed) process.stdout.write(`FAIL ${r.tier} ${r.id} ${JSON.stringify(r.name)}: ${r.outcome} -- ${r.why}${r.problems.length ? ` [${r.problems.join('; ')}]` : ''}\n`);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    `PROTOCOLS desync: ${failed.length ? 'FAIL' : 'pass'} ${results.length - failed.length}/${results.length}; ` +
      `Severe ${count(sev, (r) => r.pass)}/${sev.length} rejected 400+close; ` +
      `Ambiguous ${count(amb, (r) => r.pass)}/${amb.length} unambiguous (${count(amb, (r) => r.forwarded === 0)} rejected, ${count(amb, (r) => r.forwarded > 0 && r.problems.length === 0)} forwarded clean); ` +
      `Compliant ${count(com, (r) => r.pass) - designed}/${com.length} forwarded+200${designed ? ` (+${designed} rejected by design)` : ''}; ` +
      `Acceptable ${acc.length}: ${count(acc, (r) => r.forwarded > 0)} forwarded, ${count(acc, (r) => r.forwarded === 0 && r.status >= 400)} rejected; ` +
      `${secs} s; details in ${path.relative(process.cwd(), workDir!) || workDir}/results.txt\n`,
  );
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stdout.write(`PROTOCOLS desync: ERROR ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
