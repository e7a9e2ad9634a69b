// The CDK app entry: a bad config fails synth with every error printed; a good one is bundled as JSON that re-validates.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, validateConfig } from '../../functions/config/index.ts';
import { buildApp } from '../../lib/app.ts';
import { BUNDLED_CONFIG_FILE, bundledConfigJson } from '../../lib/config-bundle.ts';
import { FIXTURE_CONFIG, buildUnsynthesizedApp } from './helpers.ts';

const BAD_CONFIG = 'test/fixtures/config/five-errors.yaml';
const run = promisify(execFile);

describe('a bad config', () => {
  it('makes buildApp throw a ConfigError that lists every problem', async () => {
    // Prepare
    const app = new App({ context: { config: BAD_CONFIG, 'regman:skipBundling': 'true' } });

    // Act
    const failure = await buildApp(app).then(
      () => undefined,
      (err: unknown) => err,
    );

    // Assess
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).errors).toHaveLength(5);
    expect((failure as ConfigError).message).toMatch(/5 configuration errors/);
    expect(app.node.findAll().filter((c) => c.node.id === 'RegistryManager')).toEqual([]);
  });

  it('makes bin/app.ts (what `cdk synth` runs) exit 1 and print all five errors', async () => {
    // Prepare
    const outdir = mkdtempSync(join(tmpdir(), 'regman-cdk-'));
    try {
      // Act
      const result = await run('node', ['--import', 'tsx', 'bin/app.ts'], {
        env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ config: BAD_CONFIG }) },
      }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );

      // Assess
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('five-errors.yaml: 5 configuration errors');
      for (const line of [':8 registries.blob.kind', ':10 registries.harbor.credentials', ':19 replication[0].repositories[0]', ':21 replication[0].targets[0].registry', ':24 promotion[0].to']) {
        expect(result.stderr).toContain(line);
      }
      expect(existsSync(join(outdir, 'manifest.json'))).toBe(false);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('names a missing config file', async () => {
    const app = new App({ context: { config: 'config/does-not-exist.yaml' } });
    await expect(buildApp(app)).rejects.toThrow(/ENOENT.*config\/does-not-exist\.yaml/);
  });
});

describe('the bundled config', () => {
  it('is written into the cloud assembly folder, and re-validates to the same config', async () => {
    // Prepare
    const config = await loadConfig('config/registries.yaml', { env: {} });
    const { app } = await buildUnsynthesizedApp({ config: 'config/registries.yaml' });

    // Act
    const written = readFileSync(join(app.outdir, `RegistryManager.${BUNDLED_CONFIG_FILE}`), 'utf8');
    const revalidated = validateConfig(written, BUNDLED_CONFIG_FILE);

    // Assess
    expect(written).toBe(bundledConfigJson(config));
    expect(revalidated.errors).toEqual([]);
    expect(revalidated.config).toEqual(config);
  });

  it('carries resolved ${VAR} values, not the references', async () => {
    const config = await loadConfig('config/registries.yaml', { env: { HARBOR_HOST: 'harbor.test.example' } });
    const json = JSON.parse(bundledConfigJson(config)) as { registries: { harbor: { url: string } } };
    expect(json.registries.harbor.url).toBe('https://harbor.test.example');
  });

  it('uses the fixture stack name in its file name when the stackName context is set', async () => {
    const { app } = await buildUnsynthesizedApp({ config: FIXTURE_CONFIG, stackName: 'RegmanTest' });
    expect(existsSync(join(app.outdir, `RegmanTest.${BUNDLED_CONFIG_FILE}`))).toBe(true);
  });
});
