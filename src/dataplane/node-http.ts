// node:http loaded through require(). Node's ESM facade for a builtin reads every export once,
// and node:http's WebSocket, CloseEvent and MessageEvent exports are getters that load undici,
// for classes Portico never uses: 13 MiB of RSS in a bare process, ~4 MiB in each of Portico's
// (primary + 2 workers at 10,000 routes: 393 -> 380 MiB), and ~100 ms of start-up CPU in each.
// require() returns the module object without touching those getters.

import { createRequire } from 'node:module';

export const http: typeof import('node:http') = createRequire(import.meta.url)('node:http');
