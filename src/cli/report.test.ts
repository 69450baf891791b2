import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isBad, readerOrder, renderConditions, renderSummary, renderSummaryChange, rowsOf, RunSummary, stampConditions, summaryBlocks } from './report.js';
import type { ObjectStatus } from '../translate/types.js';
import { lcg } from '../../test/lcg.js';

const cond = (type: string, status: string, reason: string, message = '') => ({ type, status, reason, message, observedGeneration: 1 });

const route: ObjectStatus = {
  kind: 'HTTPRoute',
  namespace: 'team-b',
  name: 'app',
  status: {
    parents: [
      {
        parentRef: { name: 'shared', namespace: 'infra', sectionName: 'http' },
        controllerName: 'portico.dev/gateway-controller',
        conditions: [cond('Accepted', 'False', 'NotAllowedByListeners', 'no listener allows team-b'), cond('ResolvedRefs', 'True', 'ResolvedRefs')],
      },
    ],
  },
};
const gateway: ObjectStatus = {
  kind: 'Gateway',
  namespace: 'infra',
  name: 'shared',
  status: {
    conditions: [cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'True', 'Programmed')],
    listeners: [{ name: 'http', attachedRoutes: 0, supportedKinds: [], conditions: [cond('Conflicted', 'False', 'NoConflicts')] }],
  },
};
const gc: ObjectStatus = { kind: 'GatewayClass', name: 'portico', status: { conditions: [cond('Accepted', 'True', 'Accepted')] } };

test('rows carry their scope: the object, a listener, a parentRef', () => {
  assert.deepEqual(
    rowsOf(gateway).map((r) => r.scope),
    ['', '', 'listener http'],
  );
  assert.equal(rowsOf(route)[0]!.scope, 'parent Gateway infra/shared/http');
  assert.deepEqual(rowsOf(route).map(isBad), [true, false]);
  // Conflicted=False is healthy: only Accepted/ResolvedRefs/Programmed must be True.
  assert.equal(rowsOf(gateway).some(isBad), false);
});

test('condition table marks failing rows and aligns columns', () => {
  const t = renderConditions(route, 'x.yaml:3');
  assert.equal(t.split('\n')[0], 'HTTPRoute team-b/app  (x.yaml:3)');
  const lines = t.split('\n');
  assert.equal(lines[1]!.indexOf('TYPE'), lines[2]!.indexOf('Accepted'));
  assert.equal(lines[1]!.indexOf('REASON'), lines[2]!.indexOf('NotAllowedByListeners'));
  assert.match(lines[2]!, /False ✗/);
  assert.match(renderConditions(gc), /^GatewayClass portico\n  TYPE\s+STATUS\s+REASON\s+MESSAGE\n  Accepted\s+True\s+Accepted/);
});

test('summary: ok lines, and FAIL with the failing condition spelled out', () => {
  const s = renderSummary(readerOrder([route, gateway, gc]));
  assert.deepEqual(s.split('\n'), [
    '  ok    GatewayClass portico: Accepted',
    '  ok    Gateway infra/shared: Accepted, Programmed',
    '  FAIL  HTTPRoute team-b/app',
    '          parent Gateway infra/shared/http: Accepted=False NotAllowedByListeners: no listener allows team-b',
  ]);
});

test('stampConditions gives every condition a lastTransitionTime and leaves the input alone', () => {
  const out = stampConditions(gateway.status, '2026-01-02T03:04:05Z') as { conditions: { lastTransitionTime: string }[]; listeners: { conditions: { lastTransitionTime: string }[] }[] };
  assert.equal(out.conditions[0]!.lastTransitionTime, '2026-01-02T03:04:05Z');
  assert.equal(out.listeners[0]!.conditions[0]!.lastTransitionTime, '2026-01-02T03:04:05Z');
  assert.equal((gateway.status.conditions as { lastTransitionTime?: string }[])[0]!.lastTransitionTime, undefined);
});

test('run summary: everything first (failures only past the limit), then only what changed', () => {
  const first = summaryBlocks(readerOrder([gc, gateway, route]));
  assert.equal(renderSummaryChange(undefined, first), renderSummary(readerOrder([gc, gateway, route])));
  assert.equal(renderSummaryChange(undefined, first, 2), [first.get('HTTPRoute team-b/app'), '  ok    2 more objects'].join('\n'));
  const fixed: ObjectStatus = { ...route, status: { parents: [{ parentRef: { name: 'shared' }, controllerName: 'x', conditions: [cond('Accepted', 'True', 'Accepted')] }] } };
  const next = summaryBlocks(readerOrder([gateway, fixed]));
  assert.deepEqual(renderSummaryChange(first, next).split('\n'), ['  ok    HTTPRoute team-b/app: Accepted', '  gone  GatewayClass portico', '  (1 object unchanged)']);
});

test('RunSummary prints what renderSummaryChange prints, looking only at the statuses that moved', () => {
  const rand = lcg(5);
  const routeStatus = (name: string, ok: boolean): ObjectStatus => ({
    kind: 'HTTPRoute',
    namespace: ['a', 'b'][name.length % 2]!,
    name,
    status: { parents: [{ parentRef: { name: 'gw' }, controllerName: 'x', conditions: [ok ? cond('Accepted', 'True', 'Accepted') : cond('Accepted', 'False', 'NotAllowedByListeners')] }] },
  });
  const summary = new RunSummary();
  let list: ObjectStatus[] = [gc, gateway];
  let shown: Map<string, string> | undefined;
  for (let step = 0; step < 200; step++) {
    // As translate/incremental.ts does: unchanged statuses kept (same object, same place), a few replaced, added or removed.
    const next = [...list];
    for (let c = 0, n = rand(4); c < n; c++) {
      const name = `r${rand(25)}`;
      const i = next.findIndex((s) => s.name === name);
      const op = rand(4);
      if (op === 0 && i >= 0) next.splice(i, 1);
      else if (i >= 0) next[i] = op === 1 ? { ...next[i]! } : routeStatus(name, rand(2) === 0);
      else next.splice(rand(next.length + 1), 0, routeStatus(name, rand(2) === 0));
    }
    const blocks = summaryBlocks(readerOrder(next));
    const want = step > 0 && next === list ? undefined : next.length === 0 ? '  (no Gateway API objects for this controller)' : renderSummaryChange(shown, blocks);
    assert.equal(summary.update(next), want, `step ${step}`);
    shown = blocks;
    list = next;
  }
  assert.equal(summary.update(list), undefined, 'the same list again');
});
