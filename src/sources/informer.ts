// List then watch one collection, as client-go's reflector does. The list is a watch-list where
// the API server offers one (sendInitialEvents, Kubernetes 1.27+ behind the WatchList gate): every
// object as an ADDED event, then a bookmark that ends them, served from the watch cache one object
// at a time. A plain list was one 20 MB answer at 10,000 routes, every object with its
// managedFields alive at once, and the pages that burst took stayed resident (~12 MB of RSS);
// paging it (limit=500) cost a second of start-up. A server that refuses the watch-list gets a
// plain list. Then it watches from the list's resourceVersion, watches again from the last one when
// the server ends the watch (timeoutSeconds), and lists again when that one is too old (410 Gone).
// It keeps no copy of the objects: the source has them.

import { ApiError, type ApiClient, type WatchEvent } from './api-client.js';

export type Raw = Record<string, unknown> & { metadata: { name: string; namespace?: string; resourceVersion?: string } };

export interface InformerHandlers {
  /**
   * What an object from the API server becomes before it is handed on. `strings` is one table
   * per list: equal strings of its objects can be made one (JSON.parse gives each its own copy).
   */
  transform(obj: Raw, strings?: Map<string, string>): Raw;
  /** Every object of the collection now: what the caller had and is not here was deleted. */
  listed(items: Raw[]): void;
  /** A watch event, in order. */
  event(type: 'add' | 'update' | 'delete', obj: Raw): void;
  /** The watch is open (the caller resets its backoff). */
  opened(): void;
  /** The informer stopped on an error; start() lists again. */
  error(err: Error): void;
}

const INITIAL_EVENTS_END = 'k8s.io/initial-events-end';

/** A watch that ends this soon after it opened, with no event, counts as a failure: no tight re-watch loop. */
const SHORTEST_WATCH_MS = 1000;

export class Informer {
  private resourceVersion = '';
  private watching?: { abort(): void };
  private silence?: NodeJS.Timeout;
  private stopped = false;
  /** Bumped by start() and stop(): a list or watch from an earlier run delivers nothing. */
  private run = 0;

  constructor(
    private readonly client: ApiClient,
    private readonly path: string,
    /** Server-side watch timeout; the client gives up after 30 s more of silence (a dead connection). */
    private readonly timeoutSeconds: number,
    private readonly on: InformerHandlers,
  ) {}

  /** false once the server refused a watch-list: lists are plain lists from then on. */
  private watchList = true;

  /** Lists, then watches. Errors go to on.error, not to the caller. */
  async start(): Promise<void> {
    this.stopped = false;
    const run = ++this.run;
    if (this.watchList) return this.watch(run, []);
    try {
      const list = await this.client.json<{ metadata?: { resourceVersion?: string }; items?: Raw[] }>('GET', this.path, { timeoutMs: 60_000 });
      if (run !== this.run) return;
      this.resourceVersion = list.metadata?.resourceVersion ?? '';
      const strings = new Map<string, string>();
      this.on.listed((list.items ?? []).map((o) => this.on.transform(o, strings)));
    } catch (err) {
      if (run === this.run) this.on.error(err as Error);
      return;
    }
    await this.watch(run);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.run++;
    this.disarm();
    this.watching?.abort();
    this.watching = undefined;
  }

  /** `initial`: a watch-list, whose objects are gathered here until the bookmark that ends them. */
  private async watch(run: number, initial?: Raw[]): Promise<void> {
    let gone = false;
    let failure: Error | undefined;
    let events = 0;
    const opened = Date.now();
    const query: Record<string, string> = { resourceVersion: this.resourceVersion, timeoutSeconds: String(this.timeoutSeconds), allowWatchBookmarks: 'true' };
    if (initial) Object.assign(query, { resourceVersion: '', sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan' });
    let strings: Map<string, string> | undefined = initial && new Map();
    const onEvent = (e: WatchEvent) => {
      if (run !== this.run) return;
      events++;
      this.arm();
      if (e.type === 'ERROR') {
        // An expired resourceVersion comes in-band as a Status with code 410.
        if (e.object.code === 410) gone = true;
        else failure = new Error(`watch ${this.path}: ${e.object.message ?? JSON.stringify(e.object)}`);
        this.watching?.abort();
        return;
      }
      const rv = e.object.metadata?.resourceVersion;
      if (rv) this.resourceVersion = rv;
      if (initial) {
        if (e.type === 'ADDED') initial.push(this.on.transform(e.object as Raw, strings));
        else if (e.type === 'BOOKMARK' && e.object.metadata?.annotations?.[INITIAL_EVENTS_END] === 'true') {
          const items = initial;
          initial = undefined;
          strings = undefined;
          this.on.listed(items);
        }
        return;
      }
      if (e.type === 'BOOKMARK') return;
      this.on.event(e.type === 'ADDED' ? 'add' : e.type === 'MODIFIED' ? 'update' : 'delete', this.on.transform(e.object as Raw));
    };
    const done = (err: Error | null) => {
      if (run !== this.run) return;
      this.disarm();
      this.watching = undefined;
      if (gone) {
        this.resourceVersion = '';
        void this.start();
      } else if (failure || err) this.on.error(failure ?? err!);
      else if (initial) {
        // Ended without the bookmark that closes the initial events: a server that took the
        // watch-list for a plain watch. List instead.
        this.watchList = false;
        void this.start();
      }
      else if (events === 0 && Date.now() - opened < SHORTEST_WATCH_MS) this.on.error(new Error(`watch ${this.path}: closed by the server at once`));
      else void this.watch(run);
    };
    try {
      const w = await this.client.watch(this.path, query, onEvent, done);
      if (run !== this.run) return w.abort();
      this.watching = w;
      this.arm();
      this.on.opened();
    } catch (err) {
      if (run !== this.run) return;
      if (err instanceof ApiError && err.statusCode === 410) {
        this.resourceVersion = '';
        void this.start();
      } else if (initial && err instanceof ApiError && (err.statusCode === 400 || err.statusCode === 422)) {
        // The server does not offer watch-lists (an older one, or the WatchList gate off).
        this.watchList = false;
        void this.start();
      } else this.on.error(err as Error);
    }
  }

  private arm(): void {
    this.disarm();
    this.silence = setTimeout(() => this.watching?.abort(), (this.timeoutSeconds + 30) * 1000);
    this.silence.unref();
  }

  private disarm(): void {
    if (this.silence) clearTimeout(this.silence);
    this.silence = undefined;
  }
}
