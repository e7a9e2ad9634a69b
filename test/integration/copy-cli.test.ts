// `regman copy` end to end: real distribution registries, the HTTP client, skopeo as an independent checker.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCopy, type CopyCommandOptions } from '../../bin/commands/copy.ts';
import { lineReporter } from '../../bin/commands/progress-bar.ts';
import { UsageError } from '../../bin/commands/run-cli.ts';
import { RegistryClient } from '../../functions/oci/client.ts';
import { fallbackTag } from '../../functions/oci/referrers.ts';
import { pushCosignSignature, pushMultiPlatform } from '../helpers/memory-registry.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const base: CopyCommandOptions = { platform: [], referrers: true, plainHttp: true };

async function run(src: string, dst: string, opts: Partial<CopyCommandOptions> = {}): Promise<{ out: string; lines: string[] }> {
  let out = '';
  const lines: string[] = [];
  await runCopy(src, dst, { ...base, ...opts }, { stdout: (t) => (out += t + '\n'), env: {}, reporter: lineReporter((l) => lines.push(l)) });
  return { out, lines };
}

function skopeoRaw(ref: string, creds?: string): string {
  return execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', ...(creds ? ['--creds', creds] : []), `docker://${ref}`]).toString();
}

describe('regman copy (real registries)', () => {
  let a: RunningRegistry;
  let b: RunningRegistry;
  let auth: RunningRegistry;
  let indexRaw: string;
  let indexDigest: string;

  beforeAll(async () => {
    [a, b, auth] = await Promise.all([startRegistry({}), startRegistry({}), startRegistry({ htpasswd: { alice: 's3cret' } })]);
    const client = new RegistryClient({ host: a.host, plainHttp: true });
    const { index } = await pushMultiPlatform(client, 'team/app', 'v1', { layerSize: 1_000_000 });
    await pushCosignSignature(client, 'team/app', index);
    client.close();
    indexRaw = index.raw.toString();
    indexDigest = index.digest;
  });

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop(), auth?.stop()]);
  });

  it('copies an index with its signature; skopeo sees identical bytes; a re-copy is a no-op', async () => {
    const { out, lines } = await run(`${a.host}/team/app:v1`, `${b.host}/mirror/app`, { json: true });
    const result = JSON.parse(out) as { digest: string; tag: string; blobs: { uploaded: number }; noop: boolean; referrers: string[] };
    expect(result.digest).toBe(indexDigest);
    expect(result.tag).toBe('v1');
    expect(result.blobs.uploaded).toBe(9);
    expect(result.referrers).toHaveLength(1);
    expect(skopeoRaw(`${b.host}/mirror/app:v1`)).toBe(indexRaw);
    expect(skopeoRaw(`${b.host}/mirror/app:${fallbackTag(indexDigest)}.sig`)).toBe(skopeoRaw(`${a.host}/team/app:${fallbackTag(indexDigest)}.sig`));
    expect(lines.filter((l) => / uploaded /.test(l))).toHaveLength(9);
    const again = JSON.parse((await run(`${a.host}/team/app:v1`, `${b.host}/mirror/app`, { json: true })).out) as { noop: boolean };
    expect(again.noop).toBe(true);
  });

  it('repairs a layer deleted at the target and says so; --trust-target leaves it missing', async () => {
    // Prepare
    await run(`${a.host}/team/app:v1`, `${b.host}/cli/repair`);
    const child = (JSON.parse(indexRaw) as { manifests: { digest: string }[] }).manifests[0]!.digest;
    const layer = (JSON.parse(skopeoRaw(`${b.host}/cli/repair@${child}`)) as { layers: { digest: string }[] }).layers.at(-1)!.digest;
    expect((await fetch(`${b.url}/v2/cli/repair/blobs/${layer}`, { method: 'DELETE' })).status).toBe(202);
    // Act
    const trusted = await run(`${a.host}/team/app:v1`, `${b.host}/cli/repair`, { trustTarget: true });
    const repaired = await run(`${a.host}/team/app:v1`, `${b.host}/cli/repair`, { json: true });
    expect((await fetch(`${b.url}/v2/cli/repair/blobs/${layer}`, { method: 'DELETE' })).status).toBe(202);
    const text = await run(`${a.host}/team/app:v1`, `${b.host}/cli/repair`);
    const again = await run(`${a.host}/team/app:v1`, `${b.host}/cli/repair`);
    // Assess
    expect(text.out).toMatch(/repaired \(missing at the target under sha256:[0-9a-f]{64}\): 1 blob\(s\)/);
    expect(trusted.out).toMatch(/is up to date/);
    const result = JSON.parse(repaired.out) as { noop: boolean; repaired: { children: string[]; blobs: string[]; referrers: string[] } };
    expect(result.noop).toBe(false);
    expect(result.repaired).toEqual({ children: [], blobs: [layer], referrers: [] });
    expect(again.out).toMatch(/is up to date/);
    expect((await fetch(`${b.url}/v2/cli/repair/blobs/${layer}`, { method: 'HEAD' })).status).toBe(200);
  });

  it('mounts within one registry', async () => {
    const { out } = await run(`${a.host}/team/app:v1`, `${a.host}/prod/app:stable`, { json: true });
    const result = JSON.parse(out) as { blobs: { mounted: number; uploaded: number } };
    expect(result.blobs).toMatchObject({ mounted: 9, uploaded: 0 });
    expect(skopeoRaw(`${a.host}/prod/app:stable`)).toBe(indexRaw);
  });

  it('copies one platform with --platform and tags that image', async () => {
    const { out } = await run(`${a.host}/team/app:v1`, `${b.host}/arm/app:v7`, { platform: ['linux/arm/v7'], json: true });
    const result = JSON.parse(out) as { digest: string };
    const child = (JSON.parse(indexRaw) as { manifests: Array<{ digest: string; platform: { variant?: string } }> }).manifests.find((m) => m.platform.variant === 'v7');
    expect(result.digest).toBe(child?.digest);
    expect(JSON.parse(skopeoRaw(`${b.host}/arm/app:v7`)).mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  it('pushes to an htpasswd registry with --dest-creds, and a wrong password fails naming the registry', async () => {
    await run(`${a.host}/team/app:v1`, `${auth.host}/team/app:v1`, { destCreds: 'alice:s3cret' });
    expect(skopeoRaw(`${auth.host}/team/app:v1`, 'alice:s3cret')).toBe(indexRaw);
    const err = await run(`${a.host}/team/app:v1`, `${auth.host}/team/app:v2`, { destCreds: 'alice:wrong' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(JSON.stringify({ m: (err as Error).message, c: String((err as Error).cause) })).toContain(auth.host);
    expect((err as Error).message).not.toContain('wrong');
  });

  it('copies every matching tag with --all-tags', async () => {
    const { out } = await run(`${a.host}/team/app`, `${b.host}/all/app`, { allTags: 'v\\d+', json: true });
    const result = JSON.parse(out) as { ok: boolean; tags: Array<{ tag: string }> };
    expect(result.ok).toBe(true);
    expect(result.tags.map((t) => t.tag)).toEqual(['v1']);
  });

  it.each([
    { src: 'BAD REF', dst: 'x/y', opts: {}, message: /SRC: invalid reference "BAD REF"/ },
    { src: '127.0.0.1:1/a:1', dst: 'UPPER/y', opts: {}, message: /DST: invalid reference/ },
    { src: '127.0.0.1:1/a:1', dst: '127.0.0.1:1/b', opts: { platform: ['linux'] }, message: /--platform: invalid platform "linux"/ },
    { src: '127.0.0.1:1/a:1', dst: '127.0.0.1:1/b', opts: { allTags: '.*' }, message: /SRC must not name a tag/ },
    { src: '127.0.0.1:1/a', dst: '127.0.0.1:1/b', opts: { allTags: '(' }, message: /invalid regular expression/ },
    { src: '127.0.0.1:1/a:1', dst: '127.0.0.1:1/b', opts: { concurrency: '0' }, message: /--concurrency/ },
    { src: '127.0.0.1:1/a:1', dst: '127.0.0.1:1/b', opts: { creds: 'nocolon' }, message: /--creds expects user:password/ },
  ])('rejects bad input with a UsageError: $message', async ({ src, dst, opts, message }) => {
    const err = await run(src, dst, opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
  });

  it('the binary exits 2 on a bad reference and 0 on success, results on stdout only', () => {
    const bad = spawnSync('npx', ['tsx', 'bin/regman.ts', 'copy', 'BAD REF', 'x/y'], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('invalid reference "BAD REF"');
    const ok = spawnSync('npx', ['tsx', 'bin/regman.ts', 'copy', '--plain-http', '--json', `${a.host}/team/app:v1`, `${b.host}/cli/app`], {
      encoding: 'utf8',
      env: { ...process.env, CI: '1' },
    });
    expect(ok.status).toBe(0);
    expect((JSON.parse(ok.stdout) as { digest: string }).digest).toBe(indexDigest);
    expect(ok.stderr).toMatch(/blob [0-9a-f]{12} uploaded/);
  });

  it('never prints the credentials of a reference with userinfo, and `--json` prints a JSON error object on stdout', () => {
    // Act
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'bin/regman.ts', 'copy', '--json', 'alice:hunter2pw@127.0.0.1:1/team/app:v1', 'x/y'], { encoding: 'utf8', env: { ...process.env, CI: '1' } });

    // Assess
    expect(bad.status).toBe(2);
    expect(bad.stderr + bad.stdout).not.toContain('hunter2pw');
    expect(bad.stderr).toContain('invalid reference "***@127.0.0.1:1/team/app:v1"');
    const json = JSON.parse(bad.stdout) as { ok: boolean; error: { code: string; message: string; retryable: boolean } };
    expect(json).toEqual({ ok: false, error: { code: 'USAGE', message: expect.stringContaining('credentials do not belong in a reference'), retryable: false } });
  });

  it('`copy --json` prints the copy error as JSON when the source has no such image', async () => {
    // Act
    let out = '';
    const err = await runCopy(`${a.host}/team/missing:v9`, `${b.host}/x/y`, { ...base, json: true }, { stdout: (t) => (out += t), env: {}, reporter: lineReporter(() => undefined) }).catch((e: unknown) => e);

    // Assess
    expect(err).toBeInstanceOf(Error);
    const json = JSON.parse(out) as { ok: boolean; error: { code: string; message: string } };
    expect(json.ok).toBe(false);
    expect(json.error.message).toBe((err as Error).message);
    expect(json.error.code).toMatch(/^[A-Z_]+$/);
  });

  it('exits 130 on SIGINT in the middle of a copy', async () => {
    // Prepare: a "registry" that accepts connections and never answers: the copy waits on it.
    const sockets: Socket[] = [];
    let connected!: () => void;
    const reached = new Promise<void>((r) => (connected = r));
    const hang = createServer((socket) => {
      sockets.push(socket);
      connected();
    });
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const port = (hang.address() as AddressInfo).port;
    try {
      // Act
      const child = spawn(process.execPath, ['--import', 'tsx', 'bin/regman.ts', 'copy', '--plain-http', `127.0.0.1:${port}/team/app:v1`, `${b.host}/x/y`], { env: { ...process.env, CI: '1' } });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      await reached;
      child.kill('SIGINT');

      // Assess
      expect(await exited).toBe(130);
      expect(stderr).toContain('interrupted (SIGINT)');
    } finally {
      for (const s of sockets) s.destroy();
      hang.close();
    }
  });

  it('prints the package version with --version', () => {
    const out = spawnSync('npx', ['tsx', 'bin/regman.ts', '--version'], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    expect(out.stdout.trim()).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });
});
