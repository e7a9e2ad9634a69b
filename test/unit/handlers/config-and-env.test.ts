// The handlers' bundled config loader and the environment snapshot helper.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/config/errors.ts';
import { loadConfig } from '../../../functions/config/validate-config.ts';
import { Environment, MissingEnvironmentError } from '../../../functions/env.ts';
import { loadBundledConfig } from '../../../functions/handlers/config.ts';
import { moduleDir } from '../../../functions/handlers/deps.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'regman-handler-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadBundledConfig', () => {
  it('reads the validated config the CDK app writes (retention policies carry their normalized policy)', async () => {
    // Prepare: what the CDK app bundles, JSON.stringify(loadConfig(...)), relative to the handler folder
    const validated = await loadConfig('config/local.yaml', { env: {} });
    await writeFile(join(dir, 'regman.config.json'), JSON.stringify(validated));
    // Act
    const config = await loadBundledConfig('regman.config.json', dir);
    // Assess
    expect(config.replication.map((r) => r.name)).toEqual(['mirror-releases']);
    expect(config.registries.dev).toMatchObject({ kind: 'oci', url: 'http://127.0.0.1:5000' });
    expect(config.retention[0]?.policy).toEqual(validated.retention[0]?.policy);
  });

  it('names the file and the problems of a bad config', async () => {
    const file = join(dir, 'bad.json');
    const text = JSON.parse(JSON.stringify(await loadConfig('config/local.yaml', { env: {} }))) as { replication: { targets: { registry: string }[] }[] };
    (text.replication[0]?.targets[0] as { registry: string }).registry = 'nowhere';
    await writeFile(file, JSON.stringify(text));
    const err = await loadBundledConfig(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/bad\.json.*replication\[0\]\.targets\[0\]\.registry/s);
  });

  it('refuses a file that is not JSON', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"registries": ');
    await expect(loadBundledConfig(file)).rejects.toThrow(/broken\.json.*not valid JSON/s);
    expect(await readFile(file, 'utf8')).toBe('{"registries": ');
  });
});

describe('Environment', () => {
  it('snapshots once: later changes are not seen', () => {
    const values: NodeJS.ProcessEnv = { AUDIT_TABLE: 'audit' };
    const env = new Environment(values);
    values.AUDIT_TABLE = 'changed';
    expect(env.required('AUDIT_TABLE')).toBe('audit');
  });

  it('names a missing or empty required variable, and defaults optional ones', () => {
    const env = new Environment({ EMPTY: '' });
    expect(() => env.required('IDEMPOTENCY_TABLE', 'the idempotency table')).toThrow(MissingEnvironmentError);
    expect(() => env.required('EMPTY')).toThrow(/EMPTY is not set/);
    expect(() => env.required('IDEMPOTENCY_TABLE', 'the idempotency table')).toThrow(/IDEMPOTENCY_TABLE is not set \(the idempotency table\)/);
    expect(env.optional('REGMAN_CONFIG_PATH', 'regman.config.json')).toBe('regman.config.json');
    expect(env.optional('EMPTY')).toBeUndefined();
  });

  it('finds a module folder, or the working directory when bundled without import.meta', () => {
    expect(moduleDir('file:///var/task/index.mjs')).toBe('/var/task');
    expect(moduleDir(undefined)).toBe(process.cwd());
  });
});
