// Warning Events on Ingresses for what did not convert or is not served (convert/serve.ts
// report lines), so `kubectl describe ingress` shows them next to the Ingress. One Event per
// line while the line holds; only the leader emits (replicas would repeat each other).

import type { ReportEntry } from '../convert/types.js';
import type { ApiClient } from '../sources/kubernetes.js';
import type { Resource } from '../api/types.js';

export interface IngressEventsOptions {
  client: ApiClient;
  /** The cached Ingress (its uid ties the Event to this incarnation of the object). */
  get(namespace: string, name: string): Resource | undefined;
  /** Whether this replica writes (leader). */
  enabled(): boolean;
  component: string;
  log: (m: string) => void;
  now?: () => Date;
}

const key = (e: ReportEntry) => `${e.ingress}\0${e.item}\0${e.status}\0${e.message}`;

export class IngressEvents {
  private shown = new Set<string>();
  constructor(private readonly o: IngressEventsOptions) {}

  /** The report of the latest translation: an Event for each not-converted/approximated line not reported before. */
  report(entries: readonly ReportEntry[]): void {
    const now = new Set<string>();
    const fresh: ReportEntry[] = [];
    for (const e of entries) {
      if (e.status === 'converted') continue;
      const k = key(e);
      now.add(k);
      if (!this.shown.has(k)) fresh.push(e);
    }
    // Not leader: remember nothing, so the lines are reported once this replica leads.
    if (!this.o.enabled()) return;
    this.shown = now;
    for (const e of fresh) void this.emit(e).catch((err: unknown) => this.o.log(`Event for Ingress ${e.ingress} not written: ${(err as Error).message}`));
  }

  private async emit(e: ReportEntry): Promise<void> {
    const [namespace, name] = e.ingress.split('/') as [string, string];
    const ing = this.o.get(namespace, name);
    if (!ing) return;
    const time = (this.o.now?.() ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z');
    const reason = e.status === 'approximated' ? 'Approximated' : 'NotConverted';
    await this.o.client.json('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace, name, uid: ing.metadata.uid, resourceVersion: ing.metadata.resourceVersion },
        type: 'Warning',
        reason,
        // Event messages are capped at 1 kB by convention (kubectl truncates); report lines are short.
        message: `${e.item}: ${e.message}`.slice(0, 1024),
        source: { component: this.o.component },
        firstTimestamp: time,
        lastTimestamp: time,
        count: 1,
      },
    });
  }
}
