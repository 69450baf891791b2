// The dashboard page: polls dashboard/state every second and renders it. Every value is set
// with textContent (never as HTML): names and messages come from user manifests.
import { figures } from './rates.js';

const POLL_MS = 1000;
const WINDOW_MS = 10_000;
/** Polled states inside the rate window, oldest first. */
const samples = [];

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

/** Conflicted is the one condition whose healthy status is False. */
const healthy = (c) => (c.type === 'Conflicted' ? c.status === 'False' : c.status === 'True');
const accepted = (conds) => conds.every((c) => c.type !== 'Accepted' || c.status === 'True');

function chips(conds) {
  const td = el('td', { class: 'conds' });
  for (const c of conds) {
    if (healthy(c)) {
      if (c.type !== 'Conflicted') td.append(el('span', { class: 'cond ok', title: c.message }, c.type));
      continue;
    }
    const cls = c.type === 'Accepted' ? 'cond bad' : 'cond warn';
    td.append(el('span', { class: cls, title: c.message, 'data-reason': c.reason }, `${c.type}: ${c.status} ${c.reason}`, el('span', { class: 'reason' }, c.message)));
  }
  return td;
}

function rowClass(conds) {
  if (!accepted(conds)) return 'bad';
  return conds.every(healthy) ? '' : 'warn';
}

const fmtRate = (f) => (f && Number.isFinite(f.rate) ? `${f.rate < 10 ? f.rate.toFixed(2) : f.rate.toFixed(1)}/s` : '–');
const fmtErr = (f) => (f && Number.isFinite(f.errorRatio) ? `${(f.errorRatio * 100).toFixed(1)}%` : '–');
function fmtSec(s) {
  if (!Number.isFinite(s)) return '–';
  return s < 1 ? `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms` : `${s.toFixed(2)} s`;
}

function trafficCells(f, metricsOn) {
  if (!metricsOn) return [el('td', { class: 'num muted', colSpan: 4 }, 'metrics off')];
  return [
    el('td', { class: 'num', 'data-col': 'rate', 'data-value': f ? String(f.rate) : '' }, fmtRate(f)),
    el('td', { class: `num${f && f.errorRatio > 0 ? ' err' : ''}`, 'data-col': 'errors' }, fmtErr(f)),
    el('td', { class: 'num', 'data-col': 'p50' }, fmtSec(f?.p50)),
    el('td', { class: 'num', 'data-col': 'p99' }, fmtSec(f?.p99)),
  ];
}

function fill(table, rows) {
  const body = $(`${table} tbody`);
  body.replaceChildren(...rows);
}

function render(state) {
  const oldest = samples[0];
  const window = oldest && oldest !== state ? (state.time - oldest.time) / 1000 : 0;
  const perRoute = oldest && oldest !== state ? figures(oldest, state, (r) => r.route) : new Map();
  const perBackend = oldest && oldest !== state ? figures(oldest, state, (r) => (r.backend ? r.backend : null)) : new Map();

  $('#mode').textContent = state.mode === 'file' ? 'file mode (portico run)' : 'Kubernetes (portico controller)';
  $('#updated').textContent = `updated ${new Date(state.time).toLocaleTimeString()}`;
  for (const w of document.querySelectorAll('.window')) w.textContent = window ? window.toFixed(0) : '…';

  $('#problems-section').hidden = state.mode !== 'file';
  fill(
    '#problems',
    state.problems.length === 0
      ? [el('tr', {}, el('td', { colSpan: 3, class: 'muted' }, 'none: every manifest was read'))]
      : state.problems.map((p) =>
          el('tr', { class: p.severity === 'error' ? 'bad' : 'warn' }, el('td', {}, p.severity), el('td', {}, p.line ? `${p.file}:${p.line}` : p.file), el('td', {}, [p.object, p.path, p.message].filter(Boolean).join(': '))),
        ),
  );

  const gw = [];
  for (const g of state.gateways) {
    gw.push(el('tr', { class: rowClass(g.conditions), 'data-gateway': `${g.namespace}/${g.name}` }, el('td', {}, el('strong', {}, `${g.namespace}/${g.name}`)), el('td', {}, ''), chips(g.conditions)));
    for (const l of g.listeners)
      gw.push(el('tr', { class: `listener ${rowClass(l.conditions)}`, 'data-listener': `${g.namespace}/${g.name}/${l.name}` }, el('td', {}, l.name), el('td', { class: 'num' }, l.attachedRoutes), chips(l.conditions)));
  }
  fill('#gateways', gw.length ? gw : [el('tr', {}, el('td', { colSpan: 3, class: 'muted' }, 'no Gateways for this controller'))]);

  const routes = [];
  for (const r of state.routes) {
    const id = `${r.kind}/${r.namespace}/${r.name}`;
    const parents = r.parents.length ? r.parents : [{ parentRef: '(no parent of this controller)', conditions: [] }];
    const all = parents.flatMap((p) => p.conditions);
    const parentCell = el('td', {}, ...parents.map((p) => el('div', {}, p.parentRef)));
    const condCell = el('td', {}, ...parents.map((p) => el('div', {}, ...chips(p.conditions).childNodes)));
    routes.push(el('tr', { class: rowClass(all), 'data-route': id }, el('td', {}, `${r.kind} ${r.namespace}/${r.name}`), parentCell, condCell, ...trafficCells(perRoute.get(id), state.metrics)));
  }
  // Requests no route matched (404s, unknown SNI): counted under empty route labels.
  if (state.traffic.some((t) => t.route === ''))
    routes.push(el('tr', { 'data-route': '' }, el('td', { class: 'muted' }, '(no route matched)'), el('td', {}, ''), el('td', {}, ''), ...trafficCells(perRoute.get(''), state.metrics)));
  fill('#routes', routes.length ? routes : [el('tr', {}, el('td', { colSpan: 7, class: 'muted' }, 'no routes'))]);

  fill(
    '#backends',
    state.backends.map((b) =>
      el('tr', { 'data-backend': b.name }, el('td', {}, b.name), el('td', {}, b.protocol), el('td', { class: `num${b.ready === 0 ? ' zero' : ''}` }, b.ready), ...trafficCells(perBackend.get(b.name), state.metrics)),
    ),
  );

  fill(
    '#classes',
    state.gatewayClasses.map((c) => el('tr', { class: rowClass(c.conditions) }, el('td', {}, c.name), chips(c.conditions))),
  );
}

async function poll() {
  try {
    const r = await fetch('dashboard/state', { cache: 'no-store' });
    if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
    const state = await r.json();
    samples.push(state);
    while (samples.length > 2 && state.time - samples[1].time >= WINDOW_MS) samples.shift();
    render(state);
    document.body.dataset.polls = String(Number(document.body.dataset.polls ?? 0) + 1);
  } catch (e) {
    $('#updated').textContent = `cannot reach Portico: ${e.message}`;
  }
  setTimeout(poll, POLL_MS);
}

poll();
