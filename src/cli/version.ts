// `portico version`: the package version, read from package.json beside dist/ or src/.

import { readFileSync } from 'node:fs';

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function versionCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write('usage: portico version\n\nPrints the Portico version and the Node.js version it runs on.\n');
    return 0;
  }
  process.stdout.write(`portico ${version()} (node ${process.version})\n`);
  return 0;
}
