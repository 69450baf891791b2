// The bar: a plain node:http2 server with default options, answering every stream with a small
// 200. `node plain-node.mjs <port> [tls]` — run.sh --baseline runs h2spec against it.
import * as http2 from 'node:http2';
import { readFileSync } from 'node:fs';

const port = Number(process.argv[2] ?? 18490);
const secure = process.argv[3] === 'tls';
const certs = new URL('../../fixtures/certs/', import.meta.url);
const handler = (req, res) => {
  req.resume();
  req.on('end', () => res.end('plain node http2: ok\n'));
};
const server = secure
  ? http2.createSecureServer({ cert: readFileSync(new URL('gateway.crt', certs)), key: readFileSync(new URL('gateway.key', certs)) }, handler)
  : http2.createServer(handler);
server.listen(port, '127.0.0.1', () => console.log(`plain node ${process.version} http2${secure ? ' tls' : ''} on ${port}`));
