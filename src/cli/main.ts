// `portico <command>`: dispatch to one file per command. Returns the exit code; bad input
// is a message and a non-zero code, never a stack trace.

import { versionCommand, version } from './version.js';
import { scrubSecrets } from '../ir/redact.js';

const USAGE = `portico ${version()}: a Kubernetes Gateway API implementation (controller and data plane)

usage: portico <command> [flags]

commands:
  run <paths...>       serve the manifests in these files/folders on this machine, reloading on change
  check <paths...>     validate and translate manifests; print every condition; exit 1 if anything is wrong
  convert <paths...>   turn Ingress objects and ingress-nginx annotations into Gateway API manifests
  controller           run as a Kubernetes controller (watch the API server, write status, serve traffic)
  dataplane            serve one Gateway with the config the controller streams to it (no Kubernetes credentials)
  version              print the version

Run 'portico <command> --help' for a command's flags.
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'run':
      return (await import('./run.js')).runCommand(rest);
    case 'check':
      return (await import('./check.js')).checkCommand(rest);
    case 'convert':
      return (await import('./convert.js')).convertCommand(rest);
    case 'controller':
      return (await import('./controller.js')).controllerCommand(rest);
    case 'dataplane':
      return (await import('./dataplane.js')).dataplaneCommand(rest);
    case 'version':
    case '--version':
    case '-v':
      return versionCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`portico: unknown command "${cmd}"\n\n${USAGE}`);
      return 2;
  }
}

/** Entry point used by bin/portico.js. */
export async function cli(): Promise<void> {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`portico: ${scrubSecrets((e as Error).stack ?? String(e))}\n`);
    code = 1;
  }
  process.exitCode = code;
  // A finished command exits even if a library left a timer or socket behind; `run` only
  // returns once it has drained and closed everything.
  setImmediate(() => process.exit(code));
}
