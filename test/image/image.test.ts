// The OCI image from `npm run image` (hack/image.sh), read from the archive and then run.
//
// Opt-in (PORTICO_IMAGE_TEST=1, `npm run test:image`): it needs root, mmdebstrap and buildah
// (hack/image.sh installs them with apt-get) and builds the image first, about 30 s warm and a
// minute or two cold. PORTICO_IMAGE_ARCHIVE=<path> tests an archive built earlier instead.
//
// Outside: index.json -> manifest -> config, every blob's digest and every layer's diff_id; the
// config against the Dockerfile and deploy/ (user, entrypoint, command, ports, Node version).
// Inside: the layers unpacked in order into a rootfs, then `portico version` and
// `portico run examples/` run in it the way a runtime would run the image: chroot(2) into the
// rootfs, the config's user, working directory and environment and nothing else, a fresh /proc in
// a private mount and PID namespace (`unshare --root --wd --setuid --setgid --mount-proc`; the
// mounts vanish with the namespace, so nothing is left to unmount). The network namespace is the
// host's, as with `chroot`: the example backends run outside on 127.0.0.1 and the test sends real
// requests through the Gateway. (`podman run` fails on setrlimit in this sandbox.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { parseAllDocuments } from 'yaml';
import { BACKENDS, startBackends, type Echo, type RunningBackends } from '../../examples/backends.js';
import { MALLOC_ENV } from '../../src/dataplane/heap-flags.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const ENABLED = process.env.PORTICO_IMAGE_TEST === '1';
if (!ENABLED) console.log('# test/image/image.test.ts skipped: PORTICO_IMAGE_TEST is unset (npm run test:image; needs root)');

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}
interface ImageConfig {
  architecture: string;
  os: string;
  config: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Labels?: Record<string, string>;
  };
  rootfs: { type: string; diff_ids: string[] };
}

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { cwd: ROOT, env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    c.on('error', reject);
    c.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  const r = await run(cmd, args, { timeoutMs });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function sha256(file: string, gunzip = false): Promise<string> {
  const h = createHash('sha256');
  if (gunzip) await pipeline(createReadStream(file), createGunzip(), h);
  else await pipeline(createReadStream(file), h);
  return `sha256:${h.digest('hex')}`;
}

const nodePin = /^PORTICO_NODE_VERSION=(\S+)$/m.exec(readFileSync(join(ROOT, 'hack/node.sh'), 'utf8'))![1]!;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };

/** The image as a runtime would start it: its user, working directory, environment and entrypoint. */
function inImage(rootfs: string, cfg: ImageConfig['config'], args: string[]): ChildProcess {
  const [uid, gid = uid] = cfg.User!.split(':');
  const env = Object.fromEntries(cfg.Env!.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  return spawn(
    'unshare',
    ['--mount', '--pid', '--fork', '--kill-child', `--root=${rootfs}`, `--wd=${cfg.WorkingDir}`, '--mount-proc=/proc', `--setgid=${gid}`, `--setuid=${uid}`, '--', ...cfg.Entrypoint!, ...args],
    // unshare is looked up with the image's PATH, which holds /usr/bin; node, after the chroot, with the same.
    { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

function output(c: ChildProcess): { text(): string; exited: Promise<number | null> } {
  let out = '';
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => c.on('close', (code) => r(code)));
  return { text: () => out, exited };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** examples/ listens on fixed ports; other suites may hold one briefly, so wait for them rather than fail. */
async function waitForFreePorts(ports: number[], timeoutMs = 30_000): Promise<void> {
  for (const port of ports) {
    await waitFor(`port ${port} to be free (examples/ needs it)`, () =>
      new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(false));
        s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
      }), timeoutMs);
  }
}

/** Child pids (host numbering) of a process: unshare's one child is the image's PID 1. */
function children(pid: number): number[] {
  const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return kids ? kids.split(' ').map(Number) : [];
}

function statusField(pid: number, field: string): string {
  return new RegExp(`^${field}:[ \\t]*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
}

describe('npm run image: the OCI archive', { skip: !ENABLED && 'PORTICO_IMAGE_TEST is unset' }, () => {
  let work: string;
  let archive: string;
  let oci: string;
  let manifest: { mediaType: string; config: Descriptor; layers: Descriptor[]; annotations?: Record<string, string> };
  let image: ImageConfig;
  let rootfs: string;
  const blob = (d: string) => join(oci, 'blobs', ...d.split(':'));

  before(async () => {
    archive = process.env.PORTICO_IMAGE_ARCHIVE ?? '';
    if (!archive) {
      const out = await must('bash', ['hack/image.sh'], 20 * 60_000);
      archive = /^image: (.+)$/m.exec(out)![1]!;
    }
    work = await mkdtemp(join(tmpdir(), 'portico-image-'));
    oci = join(work, 'oci');
    rootfs = join(work, 'rootfs');
    await mkdir(oci);
    await mkdir(rootfs);
    await must('tar', ['-xf', archive, '-C', oci]);
    const index = JSON.parse(await readFile(join(oci, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
    assert.equal(index.manifests.length, 1);
    manifest = JSON.parse(await readFile(blob(index.manifests[0]!.digest), 'utf8'));
    image = JSON.parse(await readFile(blob(manifest.config.digest), 'utf8'));
    // The layers in order, as a runtime applies them (OCI whiteouts honoured, though ours have none).
    for (const l of manifest.layers) {
      const names = (await must('tar', ['-tzf', blob(l.digest)])).split('\n').filter(Boolean);
      for (const n of names) {
        const base = n.replace(/\/$/, '').split('/').pop()!;
        if (base === '.wh..wh..opq') {
          const dir = join(rootfs, n, '..');
          for (const e of existsSync(dir) ? readdirSync(dir) : []) await rm(join(dir, e), { recursive: true, force: true });
        } else if (base.startsWith('.wh.')) {
          await rm(join(rootfs, n, '..', base.slice(4)), { recursive: true, force: true });
        }
      }
      await must('tar', ['-xzf', blob(l.digest), '-C', rootfs, '--numeric-owner', '--same-owner', '--same-permissions', '--exclude=.wh.*']);
    }
  }, { timeout: 25 * 60_000 });

  after(async () => {
    // Nothing is mounted under work/: /proc lived in the test's private mount namespaces only.
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('every blob matches its digest; the config lists one diff_id per layer, each the digest of the unpacked layer', async () => {
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    assert.deepEqual(manifest.annotations ?? {}, {}, 'no base-image annotations naming local build images');
    assert.equal(await sha256(blob(manifest.config.digest)), manifest.config.digest);
    assert.equal(image.rootfs.diff_ids.length, manifest.layers.length);
    for (const [i, l] of manifest.layers.entries()) {
      assert.equal(l.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
      assert.equal(await sha256(blob(l.digest)), l.digest);
      assert.equal(lstatSync(blob(l.digest)).size, l.size);
      assert.equal(await sha256(blob(l.digest), true), image.rootfs.diff_ids[i]);
    }
  });

  test('config: non-root user, entrypoint, command, ports and labels, the same as the Dockerfile and deploy/ say', async () => {
    const c = image.config;
    assert.equal(image.os, 'linux');
    assert.equal(image.architecture, 'amd64');
    assert.equal(c.User, '65532:65532');
    assert.deepEqual(c.Entrypoint, ['node', '--max-semi-space-size=16', '/app/bin/portico.js']);
    assert.deepEqual(c.Cmd, ['controller']);
    assert.equal(c.WorkingDir, '/app');
    assert.ok(c.Env!.includes('NODE_ENV=production'));
    // glibc's malloc settings for every process (src/dataplane/heap-flags.ts MALLOC_ENV).
    for (const [k, v] of Object.entries(MALLOC_ENV)) assert.ok(c.Env!.includes(`${k}=${v}`), `${k}=${v}`);
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ['443/tcp', '80/tcp', '9091/tcp']);
    assert.equal(c.Labels!['org.opencontainers.image.version'], pkg.version);
    assert.equal(c.Labels!['org.opencontainers.image.title'], 'portico');
    assert.equal(c.Labels!['org.opencontainers.image.licenses'], 'Apache-2.0');
    assert.match(c.Labels!['org.opencontainers.image.revision']!, /^[0-9a-f]{40}(-dirty)?$/);
    assert.equal(c.Labels!['dev.portico.node.version'], nodePin);
    assert.match(c.Labels!['dev.portico.debian.packages']!, /(^|,)libc6=2\.36-/);

    // The Dockerfile builds the same image for people with Docker.
    const df = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    const dir = (name: string) => [...df.matchAll(new RegExp(`^${name}\\s+(.+)$`, 'gm'))].map((m) => m[1]!.trim());
    assert.deepEqual(dir('ARG').filter((a) => a.startsWith('NODE_VERSION=')), [`NODE_VERSION=${nodePin}`], 'Dockerfile NODE_VERSION is hack/node.sh\'s pin');
    for (const from of dir('FROM')) assert.match(from, /bookworm|debian12/, `Dockerfile base ${from} is Debian bookworm`);
    assert.deepEqual(dir('USER'), [c.User]);
    assert.deepEqual(dir('ENTRYPOINT').map((e) => JSON.parse(e)), [c.Entrypoint]);
    assert.deepEqual(dir('CMD').map((e) => JSON.parse(e)), [c.Cmd]);
    assert.deepEqual(dir('EXPOSE').flatMap((e) => e.split(/\s+/)).map((p) => `${p}/tcp`).sort(), Object.keys(c.ExposedPorts!).sort());

    // deploy/manifests: the container ports are the image's, the pod runs as the image's user.
    const docs = parseAllDocuments(await readFile(join(ROOT, 'deploy/manifests/portico-in-process.yaml'), 'utf8')).map((d) => d.toJS());
    const dep = docs.find((d) => d?.kind === 'Deployment' && d.metadata?.name === 'portico');
    const podSpec = dep.spec.template.spec;
    const ctr = podSpec.containers[0];
    assert.deepEqual(ctr.ports.map((p: { containerPort: number }) => `${p.containerPort}/tcp`).sort(), Object.keys(c.ExposedPorts!).sort());
    assert.equal(`${podSpec.securityContext.runAsUser}:${podSpec.securityContext.runAsGroup}`, c.User);
  });

  test('rootfs: Debian bookworm libraries, node, the app and only its production dependencies; no shell; /app read-only for the user', () => {
    const os = readFileSync(join(rootfs, 'usr/lib/os-release'), 'utf8');
    assert.match(os, /^VERSION_CODENAME=bookworm$/m);
    assert.match(readFileSync(join(rootfs, 'etc/passwd'), 'utf8'), /^nonroot:x:65532:65532:/m);
    assert.ok(lstatSync(join(rootfs, 'usr/local/bin/node')).mode & 0o111);
    for (const lib of ['lib64/ld-linux-x86-64.so.2', 'lib/x86_64-linux-gnu/libc.so.6', 'usr/lib/x86_64-linux-gnu/libstdc++.so.6']) assert.ok(existsSync(join(rootfs, lib)), lib);
    for (const sh of ['bin/sh', 'bin/bash', 'bin/dash', 'usr/bin/sh', 'bin/busybox']) assert.ok(!existsSync(join(rootfs, sh)), `${sh} is absent`);
    assert.ok(!existsSync(join(rootfs, 'usr/bin/apt')) && !existsSync(join(rootfs, 'usr/bin/dpkg')), 'no package manager');
    assert.ok(existsSync(join(rootfs, 'var/lib/dpkg/status.d/libc6')), 'installed packages recorded for scanners');
    assert.ok(existsSync(join(rootfs, 'app/dist/cli/main.js')));
    for (const f of ['index.html', 'app.js', 'rates.js', 'style.css']) assert.ok(existsSync(join(rootfs, 'app/dist/observability/dashboard', f)), `dashboard ${f}`);
    assert.ok(!existsSync(join(rootfs, 'app/src')));
    for (const d of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(rootfs, 'app/node_modules', d, 'package.json')), d);
    for (const d of Object.keys(pkg.devDependencies)) assert.ok(!existsSync(join(rootfs, 'app/node_modules', d)), `${d} (dev) is absent`);
    const walk = (p: string): void => {
      const st = lstatSync(p);
      assert.equal(st.uid, 0, `${p} is root's`);
      if (!st.isSymbolicLink()) assert.equal(st.mode & 0o002, 0, `${p} is not world-writable`);
      if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    };
    walk(join(rootfs, 'app'));
  });

  test('portico version runs inside, as the image user', { timeout: 60_000 }, async () => {
    const c = inImage(rootfs, image.config, ['version']);
    const out = output(c);
    assert.equal(await out.exited, 0, out.text());
    assert.equal(out.text(), `portico ${pkg.version} (node v${nodePin})\n`);
  });

  test('portico run examples/ inside, non-root, two workers: requests through the Gateway reach the example backends', { timeout: 180_000 }, async (t) => {
    // Backends on free ports, so a concurrent `npm run examples` or e2e test keeps its fixed ones;
    // the copy of examples/ inside the image points its EndpointSlices there.
    const backends: RunningBackends = await startBackends(Object.fromEntries(Object.keys(BACKENDS).map((n) => [n, 0])));
    t.after(() => backends.close());
    const examples = join(rootfs, 'app', 'examples');
    await mkdir(examples);
    for (const f of readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.yaml'))) await copyFile(join(ROOT, 'examples', f), join(examples, f));
    let eps = await readFile(join(examples, 'web-backends.yaml'), 'utf8');
    for (const [name, port] of Object.entries(BACKENDS)) eps = eps.replaceAll(`port: ${port}`, `port: ${backends.ports[name]}`);
    await writeFile(join(examples, 'web-backends.yaml'), eps);

    await waitForFreePorts([8080, 9000, 9080, 9081, 9443, 9444]);
    const c = inImage(rootfs, image.config, ['run', 'examples/', '--workers', '2', '--admin', '127.0.0.1:0']);
    const out = output(c);
    t.after(() => {
      if (c.exitCode === null) process.kill(-c.pid!, 'SIGKILL');
    });
    await waitFor('portico to listen', () => /HTTP {2}0\.0\.0\.0:8080/.test(out.text()) || c.exitCode !== null, 60_000);
    assert.match(out.text(), /2 workers/, out.text());
    assert.match(out.text(), /ok {4}HTTPRoute default\/rewrite: Accepted, ResolvedRefs/, out.text());

    // The image's PID 1 and its two workers (node:cluster forks of /proc/self/exe) run as 65532
    // with no capabilities, chrooted into the unpacked rootfs.
    const [pid1] = children(c.pid!);
    await waitFor('two workers', () => children(pid1!).length === 2);
    for (const pid of [pid1!, ...children(pid1!)]) {
      assert.match(statusField(pid, 'Uid'), /^65532\s+65532\s+65532\s+65532$/);
      assert.match(statusField(pid, 'Gid'), /^65532\s+65532\s+65532\s+65532$/);
      assert.equal(statusField(pid, 'Groups'), '');
      assert.equal(statusField(pid, 'CapEff'), '0000000000000000');
      assert.equal(await readlink(`/proc/${pid}/root`), rootfs);
    }

    const base = 'http://127.0.0.1:8080';
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(base + path, { headers, redirect: 'manual' });
      const text = await res.text();
      return { res, echo: res.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as Echo) : undefined };
    };
    // URL rewrite: echo-api receives /v1/users/42 with Host api.internal.
    const rw = await get('/api/users/42?full=1');
    assert.equal(rw.res.status, 200);
    assert.equal(rw.echo!.backend, 'echo-api');
    assert.equal(rw.echo!.path, '/v1/users/42');
    assert.equal(rw.echo!.headers.host, 'api.internal');
    // Header routing and the canary split.
    for (let i = 0; i < 5; i++) assert.equal((await get('/', { 'x-version': 'v2' })).echo!.backend, 'echo-v2');
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add((await get('/')).echo!.backend);
    assert.ok(seen.has('echo-v1'), [...seen].join());
    assert.ok([...seen].every((b) => b === 'echo-v1' || b === 'echo-v2'), [...seen].join());
    // Redirect, answered by Portico itself.
    const red = await get('/old/page?x=1');
    assert.equal(red.res.status, 301);
    assert.equal(red.res.headers.get('location'), 'http://127.0.0.1:8080/new/page?x=1');

    // The dashboard's static files, served from dist/ inside the image.
    await waitFor('the admin listener', () => /admin on http/.test(out.text()) || c.exitCode !== null, 30_000);
    const admin = /admin on (http:\/\/127\.0\.0\.1:\d+)/.exec(out.text())?.[1];
    assert.ok(admin, out.text());
    for (const [path, type] of [['/', /^text\/html/], ['/dashboard/app.js', /^text\/javascript/], ['/dashboard/rates.js', /^text\/javascript/], ['/dashboard/style.css', /^text\/css/]] as const) {
      const res = await fetch(admin + path);
      assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
      assert.match(res.headers.get('content-type') ?? '', type, path);
      await res.text();
    }

    // SIGTERM to the process group (unshare ignores it, PID 1 drains and exits 0).
    process.kill(-c.pid!, 'SIGTERM');
    assert.equal(await out.exited, 0, out.text());
    assert.match(out.text(), /SIGTERM: draining/);
  });
});
