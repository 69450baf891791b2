// Backends for the gRPC, TLS, TCP, UDP and BackendTLSPolicy examples, all on 127.0.0.1:
//   19000, 19001  TCP line echo ("tcp-echo-a: <line>", "tcp-echo-b: <line>")
//   19053         UDP echo ("udp-echo: <datagram>")
//   19443         HTTPS, terminates TLS itself (TLSRoute passthrough target)
//   19444         HTTPS for BackendTLSPolicy (certificate for backend.internal, test CA)
//   19080         gRPC portico.test.Echo over h2c (test/fixtures/protos/echo.proto)
// Run: node --import tsx examples/l4-backends.ts
// Client for the gRPC example: node --import tsx examples/l4-backends.ts call-grpc 127.0.0.1:9080
import * as dgram from 'node:dgram';
import * as https from 'node:https';
import * as net from 'node:net';
import * as readline from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { EchoClient, OtherClient, startEchoServer } from '../test/fixtures/grpc.js';
import { pki } from '../test/fixtures/pki.js';

const HOST = '127.0.0.1';

function tcpLineEcho(name: string, port: number): net.Server {
  return net
    .createServer((s) => {
      s.on('error', () => {});
      readline.createInterface({ input: s }).on('line', (line) => s.write(`${name}: ${line}\n`));
    })
    .listen(port, HOST);
}

function udpEcho(port: number): dgram.Socket {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(`udp-echo: ${m.toString().trimEnd()}\n`, r.port, r.address));
  s.bind(port, HOST);
  return s;
}

function httpsBackend(name: string, port: number, note: string): https.Server {
  return https
    .createServer({ cert: pki.backend.certPem, key: pki.backend.keyPem }, (req, res) => {
      const sni = (req.socket as import('node:tls').TLSSocket).servername;
      res.setHeader('content-type', 'text/plain');
      res.end(`${name}: ${req.method} ${req.url} host=${req.headers.host} sni=${sni || '(none)'}\n${note}\n`);
    })
    .listen(port, HOST);
}

async function serve(): Promise<void> {
  tcpLineEcho('tcp-echo-a', 19000);
  tcpLineEcho('tcp-echo-b', 19001);
  udpEcho(19053);
  httpsBackend('tls-backend', 19443, 'TLS was terminated here, by the backend: Portico passed it through by SNI.');
  httpsBackend('secure-backend', 19444, 'Portico reached this backend over TLS, verified per BackendTLSPolicy.');
  await startEchoServer('grpc-echo', { host: HOST, port: 19080 });
  console.log('l4 backends on 127.0.0.1: tcp 19000 19001, udp 19053, https 19443 19444, gRPC h2c 19080');
}

async function callGrpc(target: string): Promise<void> {
  const echo = new EchoClient(target, grpc.credentials.createInsecure());
  const other = new OtherClient(target, grpc.credentials.createInsecure());
  const unary = (c: grpc.Client, req: object): Promise<unknown> =>
    new Promise((resolve) =>
      (c as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void>).Unary!(req, (e, v) =>
        resolve(e ? `status ${grpc.status[e.code]}: ${e.details}` : v),
      ),
    );
  console.log('Echo/Unary  ->', await unary(echo, { message: 'hello' }));
  const stream = (echo as unknown as { ServerStream: (r: object) => grpc.ClientReadableStream<{ index: number }> }).ServerStream({ message: 'tick', count: 3 });
  for await (const r of stream) console.log('Echo/ServerStream ->', r);
  console.log('Other/Unary ->', await unary(other, { message: 'nobody routes me' }));
  echo.close();
  other.close();
}

if (process.argv[2] === 'call-grpc') {
  await callGrpc(process.argv[3] ?? '127.0.0.1:9080');
} else {
  await serve();
}
