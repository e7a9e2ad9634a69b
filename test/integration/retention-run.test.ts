// `regman retention run` against a real registry: dry run deletes nothing, the safety valve refuses, an apply keeps every kept tag whole.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import type { RegistryCliIo } from '../../bin/commands/load-adapters.ts';
import { registerRetention, runRetention, type RunFlags, type RunJson } from '../../bin/commands/retention.ts';
import { runCli } from '../../bin/commands/run-cli.ts';
import { cosignTag, pushCosignSignature, pushImage, pushOciIndex, type PushedImage, type PushedIndex } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeo, skopeoDigest } from '../helpers/skopeo.ts';

const OLD = { 'org.opencontainers.image.created': '2020-01-01T00:00:00Z' };
const NOW = '2024-06-01T00:00:00Z';

describe('regman retention run (real registry)', () => {
  let reg: RunningRegistry;
  let dir: string;
  let configFile: string;
  let oldImage: PushedImage;
  let oldSig: PushedImage;
  let release: PushedImage;
  let releaseSig: PushedImage;
  let stale: PushedImage;
  let fresh: PushedImage;
  let multi: PushedIndex;
  const toolOld: PushedImage[] = [];
  let toolKept: PushedImage;

  async function run(flags: Omit<RunFlags, 'config'>): Promise<{ out?: RunJson; stdout: string; stderr: string; error?: Error }> {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const io: RegistryCliIo = { stdout: (t) => stdout.push(t), stderr: (t) => stderr.push(t), env: {}, progress: 'lines' };
    try {
      const out = await runRetention({ config: configFile, now: NOW, ...flags }, io);
      return { out, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
    } catch (error) {
      return { stdout: stdout.join('\n'), stderr: stderr.join('\n'), error: error as Error };
    }
  }

  async function exists(repo: string, digest: string): Promise<boolean> {
    const client = new RawRegistryClient(reg);
    const res = await client.request('HEAD', `/v2/${repo}/manifests/${digest}`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
    });
    return res.status === 200;
  }

  beforeAll(async () => {
    reg = await startRegistry();
    // shop/app: two old images (one signed), a preserved old release (signed), a multi-arch index with an
    // attestation-like unknown/unknown child, and a fresh image. Layers are tiny.
    const shared = Buffer.from('a layer shared by the release and a stale image');
    oldImage = await pushImage(reg, 'shop/app', 'build-1', { layers: [300], annotations: OLD });
    oldSig = await pushCosignSignature(reg, 'shop/app', oldImage.digest);
    release = await pushImage(reg, 'shop/app', 'v1.0.0', { layers: [shared, 200], annotations: OLD });
    releaseSig = await pushCosignSignature(reg, 'shop/app', release.digest);
    stale = await pushImage(reg, 'shop/app', 'build-2', { layers: [shared, 100], annotations: OLD });
    multi = await pushOciIndex(reg, 'shop/app', 'stable', ['linux/amd64', 'linux/arm64', 'unknown/unknown'], { layers: [64], sharedLayerSize: 128 });
    fresh = await pushImage(reg, 'shop/app', 'latest', { layers: [50], annotations: { 'org.opencontainers.image.created': '2024-05-30T00:00:00Z' } });
    // shop/tool: 2 of 3 images are old: 67% > 50%, the safety valve trips.
    toolOld.push(await pushImage(reg, 'shop/tool', 'a', { layers: [40], annotations: OLD }));
    toolOld.push(await pushImage(reg, 'shop/tool', 'b', { layers: [40], annotations: OLD }));
    toolKept = await pushImage(reg, 'shop/tool', 'v2.0.0', { layers: [40], annotations: OLD });

    dir = mkdtempSync(join(tmpdir(), 'regman-retention-run-'));
    configFile = join(dir, 'registries.yaml');
    writeFileSync(
      configFile,
      [
        'version: 1',
        'registries:',
        '  local:',
        '    kind: oci',
        `    url: ${reg.url}`,
        '    public: true',
        '    storagePricePerGbMonth: 0.10',
        'environments:',
        '  dev:',
        '    registries: [local]',
        'retention:',
        '  - name: shop',
        '    environments: [dev]',
        "    repositories: ['shop/*']",
        '    rules:',
        '      delete: { olderThanDays: 30 }',
        "      keep: { tags: ['v*', 'stable', 'latest'] }",
        '',
      ].join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    await reg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a dry run reports the plan, the bytes and the saving, and deletes nothing', async () => {
    // Act
    const { out, stdout, error } = await run({ registry: 'local', repository: 'shop/app', json: true });

    // Assess
    expect(error).toBeUndefined();
    const report = out!.reports[0]!;
    expect(report.status).toBe('planned');
    expect(new Set(report.plan.expire.map((e) => e.digest))).toEqual(new Set([oldImage.digest, oldSig.digest, stale.digest]));
    expect(report.plan.expire.find((e) => e.digest === oldSig.digest)?.reason).toMatch(/referrer .* of expiring/);
    expect(report.counts).toMatchObject({ expired: 3, deleted: 0, failed: 0 });
    // Unique blobs only: the layer `stale` shares with the kept release is not freed.
    const expected = [...oldImage.blobs, ...oldSig.blobs, stale.config, stale.layers[1]!].reduce((n, b) => n + b.size, 0);
    expect(report.bytesFreed).toBe(expected);
    expect(report.estimatedMonthlySaving).toBe(Math.round((expected / 1024 ** 3) * 0.1 * 100) / 100);
    expect(out!.notes.join('\n')).toMatch(/garbage collection/);
    expect(JSON.parse(stdout)).toMatchObject({ mode: 'dry-run', totals: { expired: 3, deleted: 0 } });
    for (const d of [oldImage.digest, oldSig.digest, stale.digest]) expect(await exists('shop/app', d)).toBe(true);
    // The dry run is audited once per repository.
    expect(out!.audit.records?.map((r) => r.action)).toEqual(['retention.plan']);
  });

  it('the safety valve refuses a plan that expires most of a repository (exit 1) and deletes nothing; --force applies it', async () => {
    // Act
    const blocked = await run({ registry: 'local', repository: 'shop/tool', apply: true });

    // Assess
    expect(blocked.error?.message).toMatch(/blocked by the safety valve .*shop\/tool.*--force/);
    expect(blocked.stdout).toMatch(/BLOCKED: the plan expires 2 of 3 images/);
    for (const i of toolOld) expect(await exists('shop/tool', i.digest)).toBe(true);
    const exitCode = await exitCodeOf(['retention', 'run', '--config', configFile, '--registry', 'local', '--repository', 'shop/tool', '--apply', '--now', NOW]);
    expect(exitCode).toBe(1);

    // Act: forced
    const forced = await run({ registry: 'local', repository: 'shop/tool', apply: true, force: true, json: true });

    // Assess
    expect(forced.error).toBeUndefined();
    expect(forced.out!.reports[0]).toMatchObject({ status: 'applied', forced: true, counts: { deleted: 2 } });
    for (const i of toolOld) expect(await exists('shop/tool', i.digest)).toBe(false);
    expect(await exists('shop/tool', toolKept.digest)).toBe(true);
  });

  it('an apply deletes exactly the plan, in order, audited; every kept tag still pulls completely', async () => {
    // Prepare
    const plan = (await run({ registry: 'local', repository: 'shop/app', json: true })).out!.reports[0]!;

    // Act
    const { out, error } = await run({ registry: 'local', repository: 'shop/app', apply: true, json: true });

    // Assess: the plan's digests, in its order (the signature before its subject), are gone
    expect(error).toBeUndefined();
    const report = out!.reports[0]!;
    expect(report.status).toBe('applied');
    const order = report.deleted.map((d) => d.digest);
    expect(new Set(order)).toEqual(new Set(plan.plan.expire.map((e) => e.digest)));
    expect(order.indexOf(oldSig.digest)).toBeLessThan(order.indexOf(oldImage.digest));
    for (const d of order) expect(await exists('shop/app', d)).toBe(false);
    // Each deletion audited with its rule and reason.
    const deletes = out!.audit.records!.filter((r) => r.action === 'retention.delete');
    expect(deletes.map((r) => r.digest).sort()).toEqual([...order].sort());
    for (const r of deletes) {
      expect(r.outcome).toBe('success');
      expect(r.details).toMatchObject({ rule: 'delete.olderThanDays', policy: 'shop' });
      expect(String(r.details?.reason)).not.toBe('');
    }
    expect(report.verified).toMatchObject({ tags: 4, children: 3, problems: [] });

    // Kept: the release and its signature, the index and all its untagged children, the fresh image.
    for (const d of [release.digest, releaseSig.digest, multi.digest, ...multi.children.map((c) => c.digest), fresh.digest]) {
      expect(await exists('shop/app', d)).toBe(true);
    }
    // skopeo (an independent client) reads each kept tag, and copies it out in full: manifests, children, blobs.
    for (const [tag, digest] of [['v1.0.0', release.digest], ['stable', multi.digest], ['latest', fresh.digest], [cosignTag(release.digest, 'sig'), releaseSig.digest]] as const) {
      expect(await skopeoDigest(`${reg.host}/shop/app:${tag}`)).toBe(digest);
      const outDir = join(dir, `copy-${tag}`);
      await skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', '--src-no-creds', `docker://${reg.host}/shop/app:${tag}`, `dir:${outDir}`]);
      const files = readdirSync(outDir);
      const wanted = tag === 'stable' ? multi.blobs : tag === 'v1.0.0' ? release.blobs : tag === 'latest' ? fresh.blobs : releaseSig.blobs;
      for (const b of wanted) expect(files).toContain(b.digest.slice(7));
      expect(readFileSync(join(outDir, 'manifest.json')).length).toBeGreaterThan(0);
    }
    // A second sweep finds nothing left to expire.
    const again = await run({ registry: 'local', repository: 'shop/app', json: true });
    expect(again.out!.reports[0]!.counts.expired).toBe(0);
  });

  it('a registry or repository no policy covers is a usage error', async () => {
    const { error } = await run({ registry: 'local', repository: 'other/app' });
    expect(error?.name).toBe('UsageError');
    expect(error?.message).toMatch(/no retention policy covers repository "other\/app"/);
    expect((await run({ registry: 'local', dryRun: true, apply: true })).error?.message).toMatch(/--dry-run and --apply/);
  });

  /** The exit code bin/regman.ts would give. */
  async function exitCodeOf(args: string[]): Promise<number> {
    const program = new Command('regman').configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    registerRetention(program);
    const before = process.exitCode;
    const write = process.stderr.write;
    const stdout = process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await runCli(program, ['node', 'regman', ...args]);
      return Number(process.exitCode ?? 0);
    } finally {
      process.stderr.write = write;
      process.stdout.write = stdout;
      process.exitCode = before;
    }
  }
});
