// The ordinary HTTP backend behind Portico for the slowhttptest suite (node: APIs only).
//   GET /        a small text reply
//   GET /big     256 KiB (the slow-read attack asks for it: more than the socket buffers take at first)
//   POST *       reads the whole body, then replies with its length
//   node test/protocols/slowhttp/backend.mjs <port> [host]
import http from 'node:http';

const port = Number(process.argv[2] ?? 18701);
const host = process.argv[3] ?? '127.0.0.1';
const big = Buffer.alloc(256 * 1024, 'portico slowhttp backend\n');

const server = http.createServer((req, res) => {
  let n = 0;
  req.on('data', (d) => (n += d.length));
  req.on('end', () => {
    if (req.method === 'GET' && req.url === '/big') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': big.length });
      res.end(big);
      return;
    }
    const body = req.method === 'POST' ? `received ${n} bytes\n` : 'ok\n';
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  req.on('error', () => {});
});
// The attacks hold many connections for minutes: none of Node's own request timeouts may cut
// them first, so any cut seen in the results is Portico's.
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 65_000;
server.maxHeadersCount = 0;
server.listen(port, host, () => console.log(`backend listening on ${host}:${port}`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
