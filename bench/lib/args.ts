// Command-line flags of `npm run bench` (see bench/README.md).

import { ALL_PROXIES, PROXIES, SCENARIOS, type ProxyName, type ScenarioName } from './scenarios.js';

export interface BenchArgs {
  durationSec: number;
  warmupSec: number;
  rounds: number;
  scenarios: ScenarioName[];
  proxies: ProxyName[];
  connections: number;
  workers: number;
  h2Clients: number;
  h2Streams: number;
  basePort: number;
  controlPlane: boolean;
  cpRoutes: number[];
  /** Changes measured per kind (route, Gateway, Secret, EndpointSlice) at each route count. */
  cpChanges: number;
  /** `portico run --workers` for the control-plane runs (default 2: the IR goes to worker processes). */
  cpWorkers: number;
  /** Add/delete churn cycles of 1,000 routes at 1,000 routes; 0 = none. */
  cpChurn: number;
  /** The churn stops after this many seconds (the cycles done are reported); 0 = no bound. */
  cpChurnMaxSeconds: number;
  /** Seconds of wrk quiet, then with routes changing 10/s, at 1,000 routes; 0 = none. */
  cpChurnLoad: number;
  /** Controller-mode route counts (needs PORTICO_KUBECONFIG; empty = file mode only). */
  cpController: number[];
  cpProvisioned: number[];
  /** File-mode route counts run again with every route on a hostname of its own (empty = none). */
  cpHosts: number[];
  porticoCmd?: string;
  /** Run Portico with --cpu-prof; profiles land in bench/.run/prof/. */
  cpuProf: boolean;
  /** Write bench/results/<date>.{md,json}; default only for a full run. */
  save: boolean;
  install: boolean;
}

export const USAGE = `usage: npm run bench -- [flags]
  --duration S        seconds per measured run (default 4)
  --warmup S          seconds of unmeasured load per proxy before round 1 (default 1)
  --rounds N          interleaved rounds, medians reported (default 3)
  --scenarios a,b     subset of: ${SCENARIOS.map((s) => s.name).join(', ')}
  --proxies a,b       subset of: ${ALL_PROXIES.join(', ')} (portico-nometrics: portico run --metrics off)
  --connections N     wrk connections (default 50)
  --workers N         worker processes of every proxy and the backend (HAProxy: threads; default 1)
  --h2 C,M            h2load clients and streams per client (default 10,10)
  --base-port P       first of the loopback ports used (default 27000; uses P..P+20)
  --control-plane / --no-control-plane
  --cp-routes a,b     route counts for the control-plane figures (default 10,1000,10000; none: no file mode)
  --cp-changes N      changes measured per kind (route, Gateway, Secret, EndpointSlice; default 20)
  --cp-workers N      portico run --workers for the control-plane runs (default 2)
  --cp-churn N        cycles of adding and deleting 1,000 routes at 1,000 routes (default 1000; 0 = none)
  --cp-churn-max-s S  stop the churn after S s and report the cycles done (default 1200; 0 = no bound)
  --cp-churn-load S   at 1,000 routes, S s of wrk quiet then S s while routes change 10/s (default 60; 0 = none)
  --cp-only           only the control plane: no data-plane scenario
  --cp-hosts a,b      also file mode at these route counts with a hostname per route (a virtual host each; no churn)
  --cp-controller a,b also controller mode at these route counts, on the cluster $PORTICO_KUBECONFIG
                      names (run inside the cluster lock: bench/README.md)
  --cp-provisioned a,b  the same with provisioned data planes (a pod per Gateway, probed at its pod IP;
                      builds dist/, which the pods run)
  --portico-cmd CMD   start Portico with CMD instead of building src/ (e.g. "node bin/portico.js")
  --cpu-prof          run Portico under node --cpu-prof; .cpuprofile files in bench/.run/prof/
  --save / --no-save  write bench/results/<date>.{md,json} (default: only for a full run)
  --no-install        fail instead of apt-get installing missing tools
  --quick             small-get only, 1 round, no control plane, no save`;

function list<T extends string>(v: string, allowed: readonly T[], flag: string): T[] {
  const items = v.split(',').map((x) => x.trim()).filter(Boolean);
  for (const x of items) if (!allowed.includes(x as T)) throw new Error(`${flag}: unknown "${x}" (allowed: ${allowed.join(', ')})`);
  return items as T[];
}

function positive(v: string | undefined, flag: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number, got "${v}"`);
  return n;
}

export function parseArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = {
    durationSec: 4,
    warmupSec: 1,
    rounds: 3,
    scenarios: SCENARIOS.map((s) => s.name),
    proxies: [...PROXIES],
    connections: 50,
    workers: 1,
    h2Clients: 10,
    h2Streams: 10,
    basePort: 27000,
    controlPlane: true,
    cpRoutes: [10, 1000, 10000],
    cpChanges: 20,
    cpWorkers: 2,
    cpChurn: 1000,
    cpChurnMaxSeconds: 1200,
    cpController: [],
    cpProvisioned: [],
    cpHosts: [],
    cpChurnLoad: 60,
    save: true,
    install: true,
    cpuProf: false,
  };
  let partial = false;
  let saveSet: boolean | undefined;
  let cpSet: boolean | undefined;
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${f} needs a value`);
      return x;
    };
    switch (f) {
      case '--duration': a.durationSec = positive(v(), f); partial = true; break;
      case '--warmup': a.warmupSec = Number(v()); break;
      case '--rounds': a.rounds = Math.round(positive(v(), f)); partial = true; break;
      case '--scenarios': a.scenarios = list(v(), SCENARIOS.map((s) => s.name), f); partial = true; break;
      case '--proxies': a.proxies = list(v(), ALL_PROXIES, f); partial = true; break;
      case '--connections': a.connections = Math.round(positive(v(), f)); partial = true; break;
      case '--workers': a.workers = Math.round(positive(v(), f)); partial = true; break;
      case '--h2': {
        const [c, m] = v().split(',');
        a.h2Clients = Math.round(positive(c, f));
        a.h2Streams = Math.round(positive(m, f));
        partial = true;
        break;
      }
      case '--base-port': a.basePort = Math.round(positive(v(), f)); break;
      case '--control-plane': cpSet = true; break;
      case '--no-control-plane': cpSet = false; break;
      case '--cp-routes': {
        const x = v();
        a.cpRoutes = x === 'none' ? [] : x.split(',').map((y) => Math.round(positive(y, f)));
        break;
      }
      case '--cp-changes': a.cpChanges = Math.round(positive(v(), f)); partial = true; break;
      case '--cp-workers': a.cpWorkers = Math.round(positive(v(), f)); partial = true; break;
      case '--cp-churn': a.cpChurn = Math.max(0, Math.round(Number(v()))); partial = true; break;
      case '--cp-churn-max-s': a.cpChurnMaxSeconds = Math.max(0, Number(v())); partial = true; break;
      case '--cp-churn-load': a.cpChurnLoad = Math.max(0, Math.round(Number(v()))); partial = true; break;
      case '--cp-controller': a.cpController = v().split(',').map((x) => Math.round(positive(x, f))); partial = true; break;
      case '--cp-provisioned': a.cpProvisioned = v().split(',').map((x) => Math.round(positive(x, f))); partial = true; break;
      case '--cp-hosts': a.cpHosts = v().split(',').map((x) => Math.round(positive(x, f))); partial = true; break;
      case '--cp-only': a.scenarios = []; cpSet = true; partial = true; break;
      case '--portico-cmd': a.porticoCmd = v(); break;
      case '--cpu-prof': a.cpuProf = true; break;
      case '--save': saveSet = true; break;
      case '--no-save': saveSet = false; break;
      case '--no-install': a.install = false; break;
      case '--quick':
        a.scenarios = ['small-get'];
        a.rounds = 1;
        partial = true;
        cpSet ??= false;
        break;
      case '-h':
      case '--help':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown flag ${f}\n${USAGE}`);
    }
  }
  // A partial run must not replace the committed full results unless asked to.
  a.save = saveSet ?? !partial;
  a.controlPlane = cpSet ?? !partial;
  if (a.proxies.includes('portico') === false) a.controlPlane = cpSet === true;
  return a;
}
