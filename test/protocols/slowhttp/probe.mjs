// The suite's own availability probe: a normal GET through Portico on a new connection every
// interval, each with a deadline, one line per attempt, until SIGTERM.
//   node probe.mjs <url> <interval ms> <timeout ms> <log file>
// Log lines: "<ms since start> ok <status> <ms>" or "<ms since start> FAIL <status|-> <ms> <why>".
import http from 'node:http';
import fs from 'node:fs';

const [url, intervalMs, timeoutMs, logFile] = process.argv.slice(2);
const out = fs.openSync(logFile, 'w');
const t0 = Date.now();
let inFlight = 0;
let stopping = false;

function attempt() {
  const start = Date.now();
  inFlight++;
  let done = false;
  const finish = (ok, status, why = '') => {
    if (done) return;
    done = true;
    inFlight--;
    const line = `${start - t0} ${ok ? 'ok' : 'FAIL'} ${status} ${Date.now() - start}${why ? ` ${why}` : ''}\n`;
    fs.writeSync(out, line);
    if (stopping && inFlight === 0) process.exit(0);
  };
  const req = http.get(url, { agent: false, timeout: Number(timeoutMs) }, (res) => {
    let body = '';
    res.setEncoding('latin1');
    res.on('data', (d) => (body += d));
    res.on('end', () => finish(res.statusCode === 200 && body === 'ok\n', res.statusCode, res.statusCode === 200 ? '' : 'status'));
    res.on('error', (e) => finish(false, res.statusCode, e.code ?? e.message));
  });
  req.on('timeout', () => { req.destroy(); finish(false, '-', `no answer within ${timeoutMs} ms`); });
  req.on('error', (e) => finish(false, '-', e.code ?? e.message));
}

attempt();
const timer = setInterval(attempt, Number(intervalMs));
process.on('SIGTERM', () => {
  // Stop starting new attempts; the ones in flight still count (each has its own deadline).
  stopping = true;
  clearInterval(timer);
  if (inFlight === 0) process.exit(0);
});
