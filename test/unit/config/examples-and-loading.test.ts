// The shipped example configs validate; loadConfig reads files, interpolates ${VAR} and resolves lifecycle JSON files.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, registryHost, validateConfig } from '../../../functions/config/index.ts';

const FIXTURES = 'test/fixtures/config';
const temps: string[] = [];
afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'regman-config-'));
  temps.push(dir);
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('the example configurations', () => {
  it('config/registries.yaml validates and covers every registry kind', async () => {
    // Act
    const config = await loadConfig('config/registries.yaml', { env: {} });
    // Assess
    expect(new Set(Object.values(config.registries).map((r) => r.kind))).toEqual(new Set(['ecr', 'gar', 'acr', 'dockerhub', 'oci']));
    expect(Object.keys(config.environments)).toEqual(['dev', 'staging', 'prod']);
    expect(config.replication.map((r) => r.name)).toEqual(['release-images-everywhere', 'public-base-images']);
    expect(config.replication[0]?.referrers).toBe(true);
    expect(config.promotion[1]?.gates.approval).toEqual({
      approvers: ['alice@acme.example', 'bob@acme.example', 'U024BE7LH'],
      required: 2,
      expiresInHours: 24,
    });
    expect(config.retention.map((p) => p.policy.format)).toEqual(['regman', 'ecr']);
    // ${HARBOR_HOST:-harbor.acme.internal} fell back to its default.
    expect(registryHost(config.registries.harbor!)).toBe('harbor.acme.internal');
  });

  it('config/local.yaml validates: loopback registries over plain http', async () => {
    const config = await loadConfig('config/local.yaml', { env: { REGMAN_LOCAL_STAGING_URL: 'http://127.0.0.1:45123', REGMAN_LOCAL_CONTROL_URL: 'http://127.0.0.1:45999' } });
    expect(Object.values(config.registries).map((r) => (r.kind === 'oci' ? r.url : r.kind))).toEqual([
      'http://127.0.0.1:5000',
      'http://127.0.0.1:45123',
      'http://127.0.0.1:5002',
      'http://127.0.0.1:5003',
    ]);
    expect(Object.keys(config.environments)).toEqual(['dev', 'staging', 'prod']);
    expect([config.replication.length, config.promotion.length, config.retention.length]).toEqual([1, 2, 1]);
    // Replication writes only dr; promotion alone writes staging and prod.
    expect(config.replication[0]).toMatchObject({ source: 'dev', targets: [{ registry: 'dr' }] });
    expect(config.promotion.map((e) => `${e.from}→${e.to}`)).toEqual(['dev→staging', 'staging→prod']);
    expect(config.promotion[0]?.gates).toMatchObject({ scan: { source: 'referrer', maxFindings: { critical: 0, high: 2 } }, approval: { required: 1 } });
    expect(config.promotion[0]?.gates.signature).toBeUndefined();
    expect(config.promotion[1]?.gates).toMatchObject({
      signature: { keys: [{ secretName: 'regman-local/cosign.pub' }] },
      tests: { http: 'http://127.0.0.1:45999/hooks/tests' },
      approval: { required: 2, approvers: ['alice@example.com', 'bob@example.com', 'carol@example.com'] },
    });
  });

  it('applies the documented defaults', () => {
    const { config, errors } = validateConfig(
      `registries:
  a: { kind: ecr, region: eu-west-1, accountId: "123456789012" }
  g: { kind: gcr, project: acme-platform, public: true }
replication:
  - { name: r, source: a, repositories: ["*"], targets: [{ registry: g }] }
promotion: []
`,
      'inline.yaml',
    );
    expect(errors).toEqual([]);
    expect(config?.version).toBe(1);
    expect(config?.environments).toEqual({});
    expect(config?.registries.g).toMatchObject({ host: 'gcr.io', public: true });
    expect(config?.replication[0]).toMatchObject({ tags: { include: ['*'], exclude: [] }, referrers: true });
    expect(config?.retention).toEqual([]);
  });
});

describe('loadConfig', () => {
  it('throws a ConfigError holding all five errors of a file with five different errors', async () => {
    // Act
    const err = await loadConfig(`${FIXTURES}/five-errors.yaml`, { env: {} }).catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(ConfigError);
    const errors = (err as ConfigError).errors;
    expect(errors.map((e) => e.message)).toEqual([
      'unknown registry kind "s3"',
      'private oci registry "harbor" has no credentials reference',
      'invalid regex "/team-(a|b/": Invalid regular expression: /team-(a|b/: Unterminated group',
      '"euwest" names no registry',
      '"production" names no environment',
    ]);
    expect(errors.every((e) => e.file === `${FIXTURES}/five-errors.yaml` && typeof e.line === 'number')).toBe(true);
    expect((err as ConfigError).message).toMatch(/^test\/fixtures\/config\/five-errors.yaml: 5 configuration errors\n {2}test\/fixtures/);
  });

  it('reads an ECR lifecycle policy file relative to the config file', async () => {
    const config = await loadConfig(`${FIXTURES}/with-lifecycle-file.yaml`);
    expect(config.retention[0]?.policy).toMatchObject({ format: 'ecr', rules: [{ rulePriority: 1, selection: { countNumber: 7 } }] });
    expect(config.retention[0]?.ecrLifecyclePolicy).toEqual(JSON.parse(readFileSync(`${FIXTURES}/lifecycle.json`, 'utf8')));
  });

  it('reports a lifecycle policy file that is missing or not JSON', async () => {
    const text = readFileSync(`${FIXTURES}/with-lifecycle-file.yaml`, 'utf8');
    const missing = tempFile('registries.yaml', text);
    const err = await loadConfig(missing).catch((e: unknown) => e);
    expect((err as ConfigError).errors).toEqual([
      expect.objectContaining({ path: 'retention[0].ecrLifecyclePolicy', value: 'lifecycle.json', message: expect.stringMatching(/^cannot read "lifecycle.json": ENOENT/) }),
    ]);
    writeFileSync(join(missing, '..', 'lifecycle.json'), '{ rules: ');
    const bad = await loadConfig(missing).catch((e: unknown) => e);
    expect((bad as ConfigError).errors[0]?.message).toMatch(/^"lifecycle.json" is not JSON: /);
  });

  it('interpolates ${VAR}, and names a variable that is not set', async () => {
    const file = tempFile(
      'registries.yaml',
      `registries:
  ecr: { kind: ecr, region: "\${AWS_REGION}", accountId: "\${ACCOUNT_ID}" }
  hub: { kind: dockerhub, namespace: "$\${literal}", public: true }
`,
    );
    const config = await loadConfig(file, { env: { AWS_REGION: 'eu-central-1', ACCOUNT_ID: '123456789012' } }).catch((e: unknown) => e);
    expect(config).toBeInstanceOf(ConfigError);
    // $${literal} is the escape for a literal "${literal}", which is not a valid namespace: the only error.
    expect((config as ConfigError).errors.map((e) => [e.path, e.value])).toEqual([['registries.hub.namespace', '${literal}']]);

    const unset = await loadConfig(file, { env: { AWS_REGION: 'eu-central-1' } }).catch((e: unknown) => e);
    // One error for the unset variable, none for the shape of "${ACCOUNT_ID}" (and the namespace one from above).
    expect((unset as ConfigError).errors.map((e) => e.path)).toEqual(['registries.ecr.accountId', 'registries.hub.namespace']);
    expect((unset as ConfigError).errors[0]).toMatchObject({
      path: 'registries.ecr.accountId',
      line: 2,
      value: '${ACCOUNT_ID}',
      message: 'environment variable ACCOUNT_ID is not set',
      expected: 'ACCOUNT_ID to be set, or a default: ${ACCOUNT_ID:-value}',
    });
  });

  it('rejects a file that cannot be read with the fs error', async () => {
    await expect(loadConfig(`${FIXTURES}/does-not-exist.yaml`)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
