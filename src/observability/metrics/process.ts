// Process metrics under the names Prometheus client libraries use (process_*, nodejs_*), so the
// usual memory and CPU dashboards and alerts work unchanged. Each process registers them on the
// first registry that asks and no other: a scrape sums the primary's registries and every
// worker's (endpoint.ts, cluster-engine.ts), so each process is counted exactly once and
// process_resident_memory_bytes is the RSS of all of Portico's processes together.

import type { Registry } from './registry.js';

let registered = false;

export function registerProcessMetrics(r: Registry): void {
  if (registered) return;
  registered = true;
  const gauge = (name: string, help: string, read: () => number) => {
    const f = r.gauge(name, help);
    const cell = f.child();
    f.collect = () => {
      cell.v = read();
    };
  };
  gauge('process_resident_memory_bytes', "Resident memory in bytes, summed over Portico's processes (the primary and every worker).", () => process.memoryUsage.rss());
  gauge('nodejs_heap_size_used_bytes', "V8 heap in use in bytes, summed over Portico's processes.", () => process.memoryUsage().heapUsed);
  gauge('nodejs_heap_size_total_bytes', "V8 heap reserved in bytes, summed over Portico's processes.", () => process.memoryUsage().heapTotal);
  gauge('nodejs_external_memory_bytes', "Memory held by JavaScript objects outside the V8 heap (buffers), summed over Portico's processes.", () => process.memoryUsage().external);
  const cpu = r.counter('process_cpu_seconds_total', "User and system CPU time in seconds, summed over Portico's processes (exited workers included).");
  const cpuCell = cpu.child();
  cpu.collect = () => {
    const u = process.cpuUsage();
    cpuCell.v = (u.user + u.system) / 1e6;
  };
}
