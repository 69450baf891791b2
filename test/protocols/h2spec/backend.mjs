// The HTTP/1.1 backend behind Portico for h2spec: answers every request with 200 and a short
// body (h2spec skips its flow-control cases when the response has fewer than 5 bytes of DATA).
// `node backend.mjs <port>`
import * as http from 'node:http';

const port = Number(process.argv[2] ?? 18402);
const body = 'h2spec backend: ok\n';
http
  .createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body));
  })
  .listen(port, '127.0.0.1', () => console.log(`h2spec backend on 127.0.0.1:${port}`));
