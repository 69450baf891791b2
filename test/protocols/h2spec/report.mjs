// Reads h2spec JUnit reports, compares them with the bar and the expected failures, prints the
// one summary line, writes details. Exit 1 when the bar is not met.
//
//   node report.mjs --bar N --expected FILE --out DIR [--label TEXT] [--baseline]
//                   [--again <listener>:<case id>=<junit.xml>]... <listener>=<junit.xml>...
//
// --baseline: only count and list (the run against plain node:http2 that sets the bar).
// --again: that case run once more on its own (run.sh does it for an unexpected failure). A case
// that failed in the whole run and passed on its own is FLAKY: counted as passed, and named in the
// summary line. Some cases race the server's answer (6.1/2: the response can close the stream
// before h2spec's DATA arrives, and nghttp2 then ignores the DATA as in 5.1/11).
//
// h2spec's JUnit marks a failed case with <error> (never <failure>) and a skipped one with
// <skipped>. A case's id is `<package>/<index in its group>` (e.g. http2/5.1/8), the selector
// h2spec itself takes: `h2spec http2/5.1/8` runs that case alone.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const bar = Number(opt('--bar') ?? 0);
const expectedFile = opt('--expected');
const out = opt('--out') ?? '.';
const label = opt('--label') ?? 'h2spec';
const baseline = args.includes('--baseline');
if (baseline) args.splice(args.indexOf('--baseline'), 1);

const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** [{ id, name, result: 'pass'|'fail'|'skip', detail }] in report order. */
function parse(file) {
  const xml = readFileSync(file, 'utf8');
  const cases = [];
  const index = new Map();
  const re = /<testcase\s+([^>]*?)(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (let m; (m = re.exec(xml)); ) {
    const attrs = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((a) => [a[1], unescape(a[2])]));
    const pkg = attrs.package ?? '?';
    const n = (index.get(pkg) ?? 0) + 1;
    index.set(pkg, n);
    const body = m[3] ?? '';
    const err = body.match(/<(error|failure)[^>]*>([\s\S]*?)<\/\1>/);
    const result = err ? 'fail' : /<skipped/.test(body) ? 'skip' : 'pass';
    cases.push({ id: `${pkg}/${n}`, name: attrs.classname ?? '', result, detail: err ? unescape(err[2]).trim().replace(/\s+/g, ' ') : '' });
  }
  if (cases.length === 0) throw new Error(`${file}: no test cases (h2spec did not run?)`);
  return cases;
}

/** expected-failures.txt: `<id> <listener>[,<listener>...]|all  # reason`. */
function readExpected(file) {
  const m = new Map();
  if (!file) return m;
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [id, where = 'all'] = line.split(/\s+/);
    m.set(id, where === 'all' ? null : new Set(where.split(',')));
  }
  return m;
}

/** `<listener>:<case id>` -> passed when run again alone. A single-case report numbers its case 1, so the id comes from the flag. */
const again = new Map();
for (let v; (v = opt('--again')) !== undefined; ) {
  const [what, file] = v.split('=');
  const cases = parse(file);
  again.set(what, cases.length === 1 && cases[0].result === 'pass');
}

const expected = readExpected(expectedFile);
const expects = (id, listener) => expected.has(id) && (expected.get(id) === null || expected.get(id).has(listener));

let ok = true;
const parts = [];
const details = [];
for (const a of args) {
  const [listener, file] = a.split('=');
  const cases = parse(file);
  const flaky = cases.filter((c) => c.result !== 'pass' && !expects(c.id, listener) && again.get(`${listener}:${c.id}`) === true);
  const passed = cases.filter((c) => c.result === 'pass').length + flaky.length;
  const notPassed = cases.filter((c) => c.result !== 'pass' && !flaky.includes(c));
  const unexpected = notPassed.filter((c) => !expects(c.id, listener));
  writeFileSync(join(out, `unexpected-${listener}.txt`), unexpected.map((c) => `${c.id}\n`).join(''));
  const fixed = [...expected.keys()].filter((id) => expects(id, listener) && cases.some((c) => c.id === id && c.result === 'pass'));
  const good = baseline || (passed >= bar && unexpected.length === 0);
  ok &&= good;
  const listed = baseline ? notPassed : unexpected;
  const what = baseline ? 'not passed' : 'unexpected';
  parts.push(
    `${listener} ${passed}/${cases.length}${listed.length ? ` (${listed.length} ${what}: ${listed.map((c) => c.id).join(' ')})` : ''}${flaky.length ? ` (${flaky.length} FLAKY, passed run again alone: ${flaky.map((c) => c.id).join(' ')})` : ''}`,
  );
  details.push(`## ${listener}: ${passed} passed of ${cases.length}, bar ${bar}: ${good ? 'met' : 'NOT MET'}`);
  for (const c of flaky) details.push(`FLAKY      ${c.id} ${c.name} -- failed in the whole run: ${c.detail}; passed when run again alone`);
  for (const c of notPassed) details.push(`${expects(c.id, listener) ? 'expected  ' : 'UNEXPECTED'} ${c.result} ${c.id} ${c.name}${c.detail ? ` -- ${c.detail}` : ''}`);
  for (const id of fixed) details.push(`now passes (remove from expected-failures.txt): ${id}`);
  details.push('');
}
const line = `PROTOCOLS h2spec: ${parts.join(', ')}; bar ${bar} (${label}) ${ok ? 'ok' : 'FAILED'}`;
writeFileSync(join(out, 'summary.txt'), `${line}\n\n${details.join('\n')}`);
process.stdout.write(`${line}\n`);
process.exit(ok ? 0 : 1);
