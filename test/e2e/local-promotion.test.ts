// The local stack's promotions through the CLI (--state-dir): promote, show, rollback + hold, hold release, quarantine list.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromotionRecord } from '../../functions/promotion/types.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { pushImage } from '../helpers/images.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

const CONFIG = `version: 1
registries:
  dev:
    kind: oci
    url: \${REGMAN_E2E_PROMO_DEV_URL}
    public: true
  staging:
    kind: oci
    url: \${REGMAN_E2E_PROMO_STAGING_URL}
    public: true
  prod:
    kind: oci
    url: \${REGMAN_E2E_PROMO_PROD_URL}
    public: true
  dr:
    kind: oci
    url: \${REGMAN_E2E_PROMO_DR_URL}
    public: true
environments:
  dev: { registries: [dev] }
  staging: { registries: [staging] }
  prod: { registries: [prod] }
replication:
  - name: dr
    source: dev
    repositories: ["mirror/**"]
    targets: [{ registry: dr }]
promotion:
  - { from: dev, to: staging }
  - { from: staging, to: prod, requires: [staging] }
`;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [join(ROOT, 'test', 'e2e', 'promotion-cli.ts'), ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('local stack promotions through the CLI (e2e)', () => {
  let dir: string;
  let stateDir: string;
  let stack: LocalStack;
  const statusOf = async (id: string) => ((await (await fetch(`${stack.endpoints.control}/promotions/${id}`)).json()) as PromotionRecord).status;
  const host = (name: string) => stack.endpoints.registries[name]!.replace(/^http:\/\//, '');
  const s = () => ['--state-dir', stateDir];

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-e2e-promotion-'));
    stateDir = join(dir, 'state');
    const configFile = join(dir, 'local.yaml');
    writeFileSync(configFile, CONFIG);
    stack = await startLocalStack({ configFile, stateDir, retryDelaysMs: [200, 400] });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('promote → staging → prod; a hold refuses a promotion until released; rollback with nothing earlier says so', async () => {
    expect(stack.endpoints.environments).toEqual({ dev: ['dev'], staging: ['staging'], prod: ['prod'] });
    const v1 = await pushImage({ url: stack.endpoints.registries.dev! }, 'app', 'v1', { layers: [64] });

    const started = await cli(['promote', '--repository', 'app', '--tag', 'v1', '--from', 'dev', '--to', 'staging', '--requested-by', 'cli:dana', '--json', ...s()]);
    expect(started.code, started.stderr).toBe(0);
    const out = JSON.parse(started.stdout) as { executionId: string; status: string; digest: string };
    expect(out.digest).toBe(v1.digest);
    for (let i = 0; i < 200 && (await statusOf(out.executionId)) !== 'SUCCEEDED'; i += 1) await new Promise((r) => setTimeout(r, 50));

    const toProd = await cli(['promote', '--repository', 'app', '--tag', 'v1', '--from', 'staging', '--to', 'prod', '--wait', '--json', ...s()]);
    expect(JSON.parse(toProd.stdout)).toMatchObject({ status: 'SUCCEEDED', digest: v1.digest });
    const shown = JSON.parse((await cli(['promotions', 'show', out.executionId, '--json', ...s()])).stdout) as PromotionRecord;
    expect(shown).toMatchObject({ status: 'SUCCEEDED', digest: v1.digest, requester: 'cli:dana' });
    expect(await skopeoDigest(`${host('staging')}/app:v1`)).toBe(v1.digest);

    // A second release reaches prod, then prod rolls back to v1 and is held there.
    const v2 = await pushImage({ url: stack.endpoints.registries.staging! }, 'app', 'v2', { layers: [64] });
    const held = await cli(['hold', 'set', '--env', 'staging', '--repository', 'app', '--reason', 'freeze staging for the test', ...s()]);
    expect(held.code, held.stderr).toBe(0);
    const refused = await cli(['promote', '--repository', 'app', '--tag', 'v1', '--from', 'dev', '--to', 'staging', '--json', ...s()]);
    expect(JSON.parse(refused.stdout)).toMatchObject({ status: 'FAILED', error: { code: 'HELD' } });
    expect(refused.code).toBe(1);
    expect((await cli(['hold', 'release', '--env', 'staging', '--repository', 'app', '--reason', 'done', ...s()])).code).toBe(0);
    expect(v2.digest).not.toBe(v1.digest);

    const list = JSON.parse((await cli(['promotions', 'list', '--env', 'prod', '--json', ...s()])).stdout) as PromotionRecord[];
    expect(list.map((r) => r.status)).toEqual(['SUCCEEDED']);
    const rollback = await cli(['rollback', '--env', 'prod', '--repository', 'app', '--reason', 'nothing earlier', ...s()]);
    expect(rollback.code).toBe(2);
    expect(rollback.stderr).toMatch(/no earlier promoted digest/);
    const quarantine = await cli(['quarantine', 'list', '--json', ...s()]);
    expect(JSON.parse(quarantine.stdout)).toEqual([]);
  }, 180_000);
});
