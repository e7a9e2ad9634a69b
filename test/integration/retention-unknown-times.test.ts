// `regman retention run` on a real distribution registry, which records no push times: count rules rank by the images' own created dates, and block what they cannot order.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RegistryCliIo } from '../../bin/commands/load-adapters.ts';
import { registerRetention, runRetention, type RunFlags, type RunJson } from '../../bin/commands/retention.ts';
import { runCli } from '../../bin/commands/run-cli.ts';
import { pushImage, type PushedImage } from '../helpers/images.ts';
import { RawRegistryClient } from '../helpers/raw-push.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';

const NOW = '2026-01-01T00:00:00Z';
const TAGS = ['v1.0.1', 'v1.0.2', 'v1.0.3', 'v1.0.4', 'v1.0.5'];

describe('retention without push times (real distribution registry)', () => {
  let reg: RunningRegistry;
  let dir: string;
  let configFile: string;
  const pushed: Record<string, Record<string, PushedImage>> = {};

  async function run(flags: Omit<RunFlags, 'config' | 'registry'>): Promise<RunJson> {
    const io: RegistryCliIo = { stdout: () => undefined, stderr: () => undefined, env: {}, progress: 'lines' };
    return runRetention({ config: configFile, registry: 'local', now: NOW, json: true, ...flags }, io);
  }

  /** The exit code bin/regman.ts would give, and what it printed on stderr. */
  async function exitCodeOf(args: string[]): Promise<{ code: number; stderr: string }> {
    const program = new Command('regman').configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    registerRetention(program);
    const before = process.exitCode;
    const { write } = process.stderr;
    const stdout = process.stdout.write;
    const err: string[] = [];
    process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await runCli(program, ['node', 'regman', 'retention', 'run', '--config', configFile, '--registry', 'local', '--now', NOW, ...args]);
      return { code: Number(process.exitCode ?? 0), stderr: err.join('') };
    } finally {
      process.stderr.write = write;
      process.stdout.write = stdout;
      process.exitCode = before;
    }
  }

  async function present(repo: string): Promise<string[]> {
    const client = new RawRegistryClient(reg);
    const out: string[] = [];
    for (const [tag, image] of Object.entries(pushed[repo]!)) {
      const res = await client.request('HEAD', `/v2/${repo}/manifests/${image.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      if (res.status === 200) out.push(tag);
    }
    return out.sort();
  }

  beforeAll(async () => {
    reg = await startRegistry();
    const push = async (repo: string, tag: string, opts: Parameters<typeof pushImage>[3] = {}) => {
      (pushed[repo] ??= {})[tag] = await pushImage(reg, repo, tag, { layers: [32], ...opts });
    };
    // gl/undated: five releases pushed in order, none carrying a created date (the registry records no push time either).
    for (const tag of TAGS) await push('gl/undated', tag);
    // gl/dated: every release dated, from three different places in the image.
    await push('gl/dated', 'v1.0.1', { config: { created: '2025-01-01T00:00:00Z' } });
    await push('gl/dated', 'v1.0.2', { config: { labels: { 'org.opencontainers.image.created': '2025-02-01T00:00:00Z' } } });
    await push('gl/dated', 'v1.0.3', { annotations: { 'org.opencontainers.image.created': '2025-03-01T00:00:00Z' } });
    await push('gl/dated', 'v1.0.4', { config: { created: '2025-04-01T00:00:00Z' } });
    await push('gl/dated', 'v1.0.5', { config: { created: '2025-05-01T00:00:00Z' } });
    // ecr/app: four dated releases, and a reproducible build whose created date is the epoch (not a time).
    for (const [i, tag] of TAGS.slice(0, 4).entries()) await push('ecr/app', tag, { config: { created: `2025-0${i + 1}-01T00:00:00Z` } });
    await push('ecr/app', 'v1.0.5', { config: { created: '1970-01-01T00:00:00Z' } });

    dir = mkdtempSync(join(tmpdir(), 'regman-retention-unknown-'));
    configFile = join(dir, 'registries.yaml');
    writeFileSync(configFile, [
      'version: 1',
      'registries:',
      `  local: { kind: oci, url: "${reg.url}", public: true }`,
      'environments:',
      '  dev: { registries: [local] }',
      'retention:',
      '  - name: gitlab-keep-3',
      '    environments: [dev]',
      "    repositories: ['gl/*']",
      "    gitlab: { keep_n: 3, name_regex: '.*' }",
      '  - name: ecr-count-3',
      '    environments: [dev]',
      "    repositories: ['ecr/*']",
      '    ecrLifecyclePolicy:',
      '      rules: [{ rulePriority: 1, selection: { tagStatus: any, countType: imageCountMoreThan, countNumber: 3 }, action: { type: expire } }]',
      '',
    ].join('\n'));
  }, 120_000);

  afterAll(async () => {
    await reg?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const tagsOf = (list: readonly { tags: readonly string[] }[]) => list.flatMap((x) => x.tags).sort();

  it('the plan ranks by the images\' own created dates, says where each came from, and blocks what it cannot order', async () => {
    const out = await run({});
    const by = Object.fromEntries(out.reports.map((r) => [r.repository, r]));
    // GitLab keep_n: 3 over undated v1.0.1…v1.0.5: before, v1.0.4 and v1.0.5 (the newest) were deleted.
    expect(tagsOf(by['gl/undated']!.plan.expire)).toEqual([]);
    expect(tagsOf(by['gl/undated']!.plan.orderBlocked)).toEqual(TAGS);
    expect(by['gl/undated']!.plan.orderBlocked[0]!.reason).toMatch(/no trustworthy time for this image/);
    // Dated from config created, config label and annotation: the two oldest go.
    expect(tagsOf(by['gl/dated']!.plan.expire)).toEqual(['v1.0.1', 'v1.0.2']);
    expect(by['gl/dated']!.plan.orderBlocked).toEqual([]);
    const sources = Object.fromEntries(Object.entries(by['gl/dated']!.plan.timeSources).map(([digest, s]) => [Object.entries(pushed['gl/dated']!).find(([, i]) => i.digest === digest)![0], s]));
    expect(sources).toEqual({ 'v1.0.1': 'config-created', 'v1.0.2': 'config-label', 'v1.0.3': 'annotation', 'v1.0.4': 'config-created', 'v1.0.5': 'config-created' });
    // ECR imageCountMoreThan: 3 with an epoch-dated build: v1.0.1 has three dated images newer than it and goes;
    // v1.0.2's rank depends on the undated one; the undated one cannot be ranked.
    expect(tagsOf(by['ecr/app']!.plan.expire)).toEqual(['v1.0.1']);
    expect(tagsOf(by['ecr/app']!.plan.orderBlocked)).toEqual(['v1.0.2', 'v1.0.5']);
    expect(by['ecr/app']!.warnings.join('\n')).toMatch(/1 manifest\(s\) carry a placeholder created date/);
    // A dry run exits 0; its table names each blocked image and where each expiring image's time came from.
    expect((await exitCodeOf(['--dry-run'])).code).toBe(0);
    const text: string[] = [];
    await runRetention({ config: configFile, registry: 'local', now: NOW }, { stdout: (t) => text.push(t), stderr: () => undefined, env: {}, progress: 'lines' });
    expect(text.join('\n')).toMatch(/v1\.0\.5\s+order\.unknown\s+no trustworthy time for this image.*\[blocked\]/);
    expect(text.join('\n')).toMatch(/v1\.0\.1\s+gitlab:cleanup\s+.*\(time from config-created\)\s+\[would delete\]/);
  }, 60_000);

  it('--apply deletes what is certain, keeps what is blocked and exits 1; --force exits 0 and still keeps it', async () => {
    const applied = await exitCodeOf(['--apply', '--repository', 'ecr/app']);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(/2 deletion\(s\) blocked for want of a trustworthy image order in ecr\/app .*re-run with --force/);
    expect(await present('ecr/app')).toEqual(['v1.0.2', 'v1.0.3', 'v1.0.4', 'v1.0.5']);

    expect((await exitCodeOf(['--apply', '--repository', 'gl/undated'])).code).toBe(1);
    expect((await exitCodeOf(['--apply', '--repository', 'gl/undated', '--force'])).code).toBe(0);
    expect(await present('gl/undated')).toEqual(TAGS);

    expect((await exitCodeOf(['--apply', '--repository', 'gl/dated'])).code).toBe(0);
    expect(await present('gl/dated')).toEqual(['v1.0.3', 'v1.0.4', 'v1.0.5']);
  }, 60_000);
});
