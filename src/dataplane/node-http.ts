// node:http loaded through require(). Node's ESM facade for a builtin reads every export once,
// and node:http's WebSocket, CloseEvent and MessageEvent exports are getters that load undici:
// ~13 MiB RSS and ~100 ms of start-up in every process (primary and each worker), for classes
// Portico never uses. require() returns the module object without touching those getters.

import { createRequire } from 'node:module';

export const http: typeof import('node:http') = createRequire(import.meta.url)('node:http');
