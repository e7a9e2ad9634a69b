// `regman registries list`, `repos list`, `images list`, `sync` against a temp config naming real registries.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { registerImages } from '../../bin/commands/images.ts';
import type { RegistryCliIo } from '../../bin/commands/load-adapters.ts';
import { registerRegistries } from '../../bin/commands/registries.ts';
import { registerRepos } from '../../bin/commands/repos.ts';
import { runCli, UsageError } from '../../bin/commands/run-cli.ts';
import { registerSync } from '../../bin/commands/sync.ts';
import {
  pushCosignSignature, pushImage, pushOciIndex, pushSbomReferrer, type PushedImage, type PushedIndex,
} from '../helpers/images.ts';
import { freePort } from '../helpers/ports.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

/** The source registry's password: a canary that must appear in no output. */
const SRC_PASSWORD = `canary-cli-${randomBytes(8).toString('hex')}`;
const SRC_CREDS = { username: 'ci', password: SRC_PASSWORD };

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
}

describe('registry CLI commands', () => {
  let src: RunningRegistry;
  let dst: RunningRegistry;
  let dst2: RunningRegistry;
  let dir: string;
  let configFile: string;
  let withDownFile: string;
  let badFile: string;
  let downPort: number;
  let image: PushedImage;
  let index: PushedIndex;
  let signatureTag: string;
  const env: NodeJS.ProcessEnv = { SRC_USERNAME: 'ci', SRC_PASSWORD };

  /**
   * Runs the commands in-process through a commander program built from the register functions
   * (bin/regman.ts lists them lazily; the lead adds them there), capturing stdout and stderr.
   */
  async function run(args: string[]): Promise<Run> {
    const out: string[] = [];
    const err: string[] = [];
    const io: RegistryCliIo = {
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      env,
      progress: 'lines',
      // A registry that is down should fail fast in a test, not after five connection retries.
      deps: { ociOptions: { retry: { maxAttempts: 1 } } },
    };
    const program = new Command('regman').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
    registerRegistries(program, io);
    registerRepos(program, io);
    registerImages(program, io);
    registerSync(program, io);
    let error: Error | undefined;
    try {
      await program.parseAsync(['node', 'regman', ...args]);
    } catch (e) {
      error = e as Error;
    }
    const result = { stdout: out.join('\n'), stderr: err.join('\n'), ...(error ? { error } : {}) };
    expect(`${result.stdout}\n${result.stderr}\n${error?.message ?? ''}`).not.toContain(SRC_PASSWORD);
    return result;
  }

  /** The exit code bin/regman.ts would give: through runCli, with process.exitCode restored. */
  async function exitCodeOf(args: string[]): Promise<number> {
    const program = new Command('regman').configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    const io: RegistryCliIo = { stdout: () => undefined, stderr: () => undefined, env, progress: 'lines', deps: { ociOptions: { retry: { maxAttempts: 1 } } } };
    registerRegistries(program, io);
    registerRepos(program, io);
    registerSync(program, io);
    const before = process.exitCode;
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await runCli(program, ['node', 'regman', ...args]);
      return Number(process.exitCode ?? 0);
    } finally {
      write.mockRestore();
      process.exitCode = before;
    }
  }

  const yamlRegistry = (name: string, reg: { url: string }, creds: string): string =>
    [`  ${name}:`, '    kind: oci', `    url: ${reg.url}`, ...creds.split('\n').map((l) => `    ${l}`)].join('\n');

  beforeAll(async () => {
    [src, dst, dst2] = await Promise.all([startRegistry({ htpasswd: { ci: SRC_PASSWORD } }), startRegistry(), startRegistry()]);
    downPort = await freePort(); // nothing listens there
    const auth = { creds: SRC_CREDS };
    image = await pushImage(src, 'team/app', 'v1', { ...auth, layers: [1500, 2500] });
    index = await pushOciIndex(src, 'team/app', 'multi', undefined, auth);
    await pushImage(src, 'team/app', 'dev-123', { ...auth, layers: [100] });
    signatureTag = `sha256-${image.digest.slice(7)}.sig`;
    await pushCosignSignature(src, 'team/app', image.digest, auth);
    await pushSbomReferrer(src, 'team/app', image.descriptor, auth);
    await pushImage(src, 'other/lib', '1.0', { ...auth, layers: [64] });

    dir = mkdtempSync(join(tmpdir(), 'regman-cli-'));
    const registries = [
      yamlRegistry('src', src, 'credentials:\n  env: SRC'),
      yamlRegistry('dst', dst, 'public: true'),
      yamlRegistry('dst2', dst2, 'public: true'),
    ];
    configFile = join(dir, 'registries.yaml');
    writeFileSync(configFile, ['version: 1', 'registries:', ...registries, ''].join('\n'));
    withDownFile = join(dir, 'with-down.yaml');
    writeFileSync(withDownFile, ['version: 1', 'registries:', ...registries, yamlRegistry('down', { url: `http://127.0.0.1:${downPort}` }, 'public: true'), ''].join('\n'));
    badFile = join(dir, 'bad.yaml');
    writeFileSync(badFile, ['version: 1', 'registries:', '  x:', '    kind: s3', ''].join('\n'));
  }, 120_000);

  afterAll(async () => {
    await Promise.all([src?.stop(), dst?.stop(), dst2?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('registries list', () => {
    it('shows every registry with kind, host and a checked status', async () => {
      const { stdout, error } = await run(['registries', 'list', '--config', configFile]);

      expect(error).toBeUndefined();
      const lines = stdout.split('\n');
      expect(lines[0]).toMatch(/^NAME\s+KIND\s+HOST\s+STATUS$/);
      expect(lines.slice(1).map((l) => l.split(/\s+/))).toEqual([
        ['src', 'oci', src.host, 'ok'],
        ['dst', 'oci', dst.host, 'ok'],
        ['dst2', 'oci', dst2.host, 'ok'],
      ]);
    });

    it('reports a registry that does not answer, and one whose credentials are refused, and fails', async () => {
      const wrongEnv = { ...env };
      env.SRC_PASSWORD = `wrong-${SRC_PASSWORD.slice(6)}`;
      try {
        const { stdout, error } = await run(['registries', 'list', '--config', withDownFile, '--json']);

        const statuses = JSON.parse(stdout) as Array<{ name: string; ok: boolean; error?: string }>;
        expect(statuses.map((s) => [s.name, s.ok])).toEqual([['src', false], ['dst', true], ['dst2', true], ['down', false]]);
        expect(statuses[0]?.error).toMatch(new RegExp(`registry ${src.host} refused access`));
        expect(statuses[3]?.error).toMatch(/ECONNREFUSED/);
        expect(error?.message).toMatch(/2 of 4 registries did not answer with their credentials accepted: src, down/);
      } finally {
        Object.assign(env, wrongEnv);
      }
    });
  });

  describe('repos list', () => {
    it('lists the repositories of a registry, sorted', async () => {
      const { stdout, error } = await run(['repos', 'list', '--registry', 'src', '--config', configFile]);
      expect(error).toBeUndefined();
      expect(stdout.split('\n')).toEqual(['other/lib', 'team/app']);
    });

    it('prints JSON with --json', async () => {
      const { stdout } = await run(['repos', 'list', '--registry', 'src', '--config', configFile, '--json']);
      expect(JSON.parse(stdout)).toEqual(['other/lib', 'team/app']);
    });

    it('refuses an unknown registry with a usage error listing the configured names (exit 2)', async () => {
      const { error } = await run(['repos', 'list', '--registry', 'nope', '--config', configFile]);
      expect(error).toBeInstanceOf(UsageError);
      expect(error?.message).toBe(`--registry "nope" names no registry in ${configFile} (configured: src, dst, dst2)`);
      expect(await exitCodeOf(['repos', 'list', '--registry', 'nope', '--config', configFile])).toBe(2);
    });

    it('refuses an invalid config file with every error (exit 2)', async () => {
      const { error } = await run(['repos', 'list', '--registry', 'x', '--config', badFile]);
      expect(error).toBeInstanceOf(UsageError);
      expect(error?.message).toMatch(/registries\.x\.kind: unknown registry kind "s3"/);
      expect(await exitCodeOf(['repos', 'list', '--registry', 'x', '--config', badFile])).toBe(2);
    });

    it('reads the config from REGMAN_CONFIG when --config is absent', async () => {
      env.REGMAN_CONFIG = configFile;
      try {
        const { stdout } = await run(['repos', 'list', '--registry', 'src']);
        expect(stdout.split('\n')).toEqual(['other/lib', 'team/app']);
      } finally {
        delete env.REGMAN_CONFIG;
      }
    });
  });

  describe('images list', () => {
    it('prints a table of tags, short digest, size, pushed and last pulled', async () => {
      const { stdout, error } = await run(['images', 'list', '--registry', 'src', '--repository', 'team/app', '--config', configFile]);

      expect(error).toBeUndefined();
      const lines = stdout.split('\n');
      expect(lines[0]).toMatch(/^TAGS\s+DIGEST\s+SIZE\s+PUSHED\s+LAST PULLED$/);
      const v1 = lines.find((l) => l.startsWith('v1 '));
      const size = image.blobs.reduce((s, b) => s + b.size, 0);
      expect(v1?.split(/\s{2,}/)).toEqual(['v1', image.digest.slice(7, 19), `${(size / 1024).toFixed(1)} KiB`, '-', '-']);
      expect(lines.some((l) => l.startsWith('multi ') && l.includes(index.digest.slice(7, 19)))).toBe(true);
      for (const child of index.children) {
        expect(lines.some((l) => l.startsWith(`(in index ${index.digest.slice(7, 19)})`) && l.includes(child.digest.slice(7, 19)))).toBe(true);
      }
      expect(lines.some((l) => l.startsWith(`(application/spdx+json of ${image.digest.slice(7, 19)})`))).toBe(true);
      expect(lines.some((l) => l.startsWith(signatureTag))).toBe(true);
    });

    it('prints every field as JSON with --json', async () => {
      const { stdout } = await run(['images', 'list', '--registry', 'src', '--repository', 'team/app', '--config', configFile, '--json']);
      const images = JSON.parse(stdout) as Array<{ digest: string; tags: string[]; manifests?: string[]; blobs?: unknown[] }>;
      const idx = images.find((i) => i.digest === index.digest);
      expect(idx?.tags).toEqual(['multi']);
      expect([...(idx?.manifests ?? [])].sort()).toEqual(index.children.map((c) => c.digest).sort());
      expect(images.find((i) => i.digest === image.digest)?.blobs).toHaveLength(3);
    });
    it('says on stderr, not stdout, that a repository has no tagged images or does not exist', async () => {
      const { stdout, stderr, error } = await run(['images', 'list', '--registry', 'src', '--repository', 'team/nothing-here', '--config', configFile]);
      expect(error).toBeUndefined();
      expect(stdout).toBe('');
      expect(stderr).toMatch(/src\/team\/nothing-here has no tagged images \(or no such repository/);
    });
  });

  describe('sync', () => {
    it('copies matching tags with their referrers to a target, digests unchanged, progress on stderr', async () => {
      const { stdout, stderr, error } = await run([
        'sync', '--source', 'src', '--target', 'dst', '--repository', 'team/app', '--tags', 'v1|multi', '--config', configFile, '--json',
      ]);

      expect(error).toBeUndefined();
      const result = JSON.parse(stdout) as { ok: boolean; tags: string[]; targets: Array<{ target: string; ok: boolean; tags: Array<{ tag: string; result?: { digest: string } }> }> };
      expect(result.ok).toBe(true);
      expect([...result.tags].sort()).toEqual(['multi', 'v1']);
      expect(result.targets.map((t) => t.target)).toEqual(['dst']);
      expect(await skopeoDigest(`${dst.host}/team/app:v1`)).toBe(image.digest);
      expect(await skopeoDigest(`${dst.host}/team/app:multi`)).toBe(index.digest);
      expect(await skopeoDigest(`${dst.host}/team/app:${signatureTag}`)).toBeTruthy();
      await expect(skopeoDigest(`${dst.host}/team/app:dev-123`)).rejects.toThrow();
      expect(stderr).toMatch(/sync: 2 tag\(s\) to dst/);
      expect(stderr).toMatch(/dst v1: started/);
      expect(stderr).toMatch(/dst v1: blob [0-9a-f]{12} uploaded/);
    });

    it('copies to several targets; one target failing does not stop the other (exit 1)', async () => {
      const { stdout, error } = await run([
        'sync', '--source', 'src', '--target', 'down', '--target', 'dst2', '--repository', 'team/app', '--tags', 'v1', '--config', withDownFile,
      ]);

      const lines = stdout.split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^down\/team\/app:v1 FAILED: .*ECONNREFUSED.*The tag "v1" was not published/);
      // The image's 3 blobs plus its signature's and SBOM's: the referrers travel with it.
      expect(lines[1]).toMatch(new RegExp(`^dst2/team/app:v1 copied ${image.digest} \\(blobs: 7 uploaded, 0 mounted, 0 skipped; [0-9.]+ KiB; 2 referrer\\(s\\)\\)$`));
      expect(error?.message).toBe('1 of 2 tag copies failed: down v1');
      expect(await skopeoDigest(`${dst2.host}/team/app:v1`)).toBe(image.digest);
      expect(await exitCodeOf(['sync', '--source', 'src', '--target', 'down', '--repository', 'team/app', '--tags', 'v1', '--config', withDownFile])).toBe(1);
    });

    it('says "up to date" when the target already holds the tag', async () => {
      const { stdout, error } = await run(['sync', '--source', 'src', '--target', 'dst', '--repository', 'team/app', '--tags', 'v1', '--config', configFile]);
      expect(error).toBeUndefined();
      expect(stdout).toBe(`dst/team/app:v1 up to date ${image.digest}`);
    });

    it.each([
      [['--tags', '(['], /--tags: invalid regular expression "\(\["/],
      [['--target', 'nowhere'], /--target "nowhere" names no registry .* \(configured: src, dst, dst2\)/],
      [['--target', 'src'], /--target "src" is the source repository itself/],
    ])('refuses bad input %j with a usage error', async (extra, expected) => {
      const base = ['sync', '--source', 'src', '--repository', 'team/app', '--config', configFile];
      const args = extra.includes('--target') ? [...base, ...extra] : [...base, '--target', 'dst', ...extra];
      const { error } = await run(args);
      expect(error).toBeInstanceOf(UsageError);
      expect(error?.message).toMatch(expected);
    });

    it('fails when no tag matches', async () => {
      const { error } = await run(['sync', '--source', 'src', '--target', 'dst', '--repository', 'team/app', '--tags', 'nothing-.*', '--config', configFile]);
      expect(error?.message).toMatch(/no tag of src\/team\/app matches --tags "nothing-\.\*"; nothing was copied/);
    });
  });
});
