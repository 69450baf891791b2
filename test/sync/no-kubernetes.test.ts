// `portico dataplane` holds no Kubernetes credentials and loads no Kubernetes client: every
// module reachable from src/cli/dataplane.ts (static and dynamic imports) is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function reachable(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
      const spec = m[1] ?? m[2]!;
      if (/^import\s+type\s/.test(m[0].trim())) continue; // erased at compile time
      if (!spec.startsWith('.')) {
        packages.add(spec);
        continue;
      }
      const ts = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
      if (existsSync(ts)) visit(ts);
    }
  };
  visit(entry);
  return { files, packages };
}

test('nothing portico dataplane loads imports a Kubernetes client', () => {
  const { files, packages } = reachable(path.join(SRC, 'cli/dataplane.ts'));
  assert.ok(files.has(path.join(SRC, 'sync/client.ts')));
  assert.ok(files.has(path.join(SRC, 'dataplane/engine.ts')), 'the engine is reached (dynamic import)');
  const external = [...packages].filter((p) => !p.startsWith('node:'));
  assert.deepEqual(external, [], `non-built-in packages reached: ${external.join(', ')}`);
  for (const f of files) assert.ok(!/src\/(sources|controller|translate)\//.test(f), `${f} is reached`);
});
