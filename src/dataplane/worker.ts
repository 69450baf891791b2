// A cluster worker: a LocalEngine driven by the primary over IPC.

import type { EngineOptions } from './engine-api.js';
import type { FromWorker, ToWorker } from './cluster-engine.js';
import { LocalEngine } from './local-engine.js';
import { DeltaDecoder } from './ir-delta.js';
import { releaseRejectedHandles } from './cluster-bind.js';

releaseRejectedHandles();

const raw = JSON.parse(process.env.PORTICO_ENGINE_OPTIONS ?? '{}') as EngineOptions & { hasAccessLog?: boolean };
const send = (m: FromWorker): void => {
  if (process.connected) process.send!(m);
};
const engine = new LocalEngine({
  ...raw,
  accessLog: raw.hasAccessLog ? (line) => send({ type: 'log', line }) : undefined,
});

const deltas = new DeltaDecoder();

process.on('message', (m: ToWorker) => {
  if (m.type === 'apply' && m.delta) {
    let ir;
    try {
      ir = deltas.apply(m.delta);
    } catch (e) {
      send({ type: 'done', id: m.id, error: `cannot read the configuration: ${(e as Error).message}` });
      return;
    }
    if (ir === 'resync') {
      send({ type: 'done', id: m.id, resync: true });
      return;
    }
    engine.apply(ir).then(
      (r) => send({ type: 'done', id: m.id, unbound: r.unbound }),
      (e: Error) => send({ type: 'done', id: m.id, error: e.message }),
    );
  } else if (m.type === 'metrics') {
    send({ type: 'metrics', id: m.id, snapshot: engine.snapshotNow() });
  } else if (m.type === 'drain') {
    engine.drain();
    send({ type: 'done', id: m.id });
  } else if (m.type === 'close') {
    engine.close(m.graceMs).finally(() => {
      send({ type: 'done', id: m.id });
      process.disconnect?.();
    });
  }
});
process.on('disconnect', () => {
  void engine.close(1000).finally(() => process.exit(0));
});
send({ type: 'ready' });
// Besides answering scrapes, push a snapshot now and then: if this worker dies, the primary keeps
// what it last received, so at most this period of counts is lost (metrics off: nothing sent).
if (raw.metrics !== false) {
  const push = setInterval(() => {
    const snapshot = engine.snapshotNow();
    if (snapshot) send({ type: 'metrics', id: -1, snapshot });
  }, 10_000);
  push.unref();
}
