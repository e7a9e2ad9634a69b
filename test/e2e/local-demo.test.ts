// End to end on `npm start`'s own config (config/local.yaml): `regman demo` pushes a signed multi-arch image with an SBOM and a
// scan report; it replicates to dr; dev → staging passes the scan gate; staging → prod passes scan, signature and the local test hook.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PromotionRecord } from '../../functions/promotion/types.ts';
import type { ComplianceReport } from '../../functions/reports/compliance.ts';
import { controlHeaders } from '../../local/control-auth.ts';
import type { DemoResult } from '../../local/demo/run-demo.ts';
import { localSigningKeyPaths } from '../../local/signing-key.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

function regman(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [join(ROOT, 'bin', 'regman.ts'), ...args], { cwd: ROOT, timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('regman demo on the local stack of config/local.yaml (e2e)', () => {
  let dir: string;
  let stateDir: string;
  let stack: LocalStack;
  const logs: string[] = [];
  const host = (name: string) => stack.endpoints.registries[name]!.replace(/^http:\/\//, '');

  const control = async <T>(path: string, init?: { method: string; body: unknown }): Promise<T> => {
    const res = await fetch(`${stack.endpoints.control}${path}`, init
      ? { method: init.method, headers: { ...controlHeaders(stack.endpoints.controlToken), 'content-type': 'application/json' }, body: JSON.stringify(init.body) }
      : undefined);
    const body = (await res.json()) as T;
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body;
  };

  async function until(id: string, statuses: readonly string[]): Promise<PromotionRecord> {
    for (let i = 0; i < 600; i += 1) {
      const r = await control<PromotionRecord>(`/promotions/${id}`);
      if (statuses.includes(r.status)) return r;
      await new Promise((done) => setTimeout(done, 50));
    }
    throw new Error(`${id} never reached ${statuses.join('|')}`);
  }

  /** Promotes through the control API as `regman promote --state-dir` does, approving as each of `approvers`. */
  async function promote(tag: string, from: string, to: string, approvers: readonly string[]): Promise<PromotionRecord> {
    const started = await control<{ executionId: string }>('/promotions', { method: 'POST', body: { repository: 'demo/app', tag, from, to, requestedBy: 'cli:dana' } });
    await until(started.executionId, ['WAITING_FOR_APPROVAL', 'FAILED']);
    for (const identity of approvers) {
      await control(`/operator/approvals/${encodeURIComponent(started.executionId)}/approve`, { method: 'POST', body: { identity } });
    }
    return until(started.executionId, ['SUCCEEDED', 'FAILED', 'ROLLED_BACK', 'REJECTED', 'TIMED_OUT']);
  }

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-e2e-demo-'));
    stateDir = join(dir, 'state');
    stack = await startLocalStack({ configFile: join(ROOT, 'config', 'local.yaml'), stateDir, log: (l) => logs.push(l), reconcileEveryMinutes: 0, retryDelaysMs: [200, 400] });
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts dev, staging, prod and dr; makes the signing key pair; the banner says how to attach a report, run the demo and promote', () => {
    expect(Object.keys(stack.endpoints.registries).sort()).toEqual(['dev', 'dr', 'prod', 'staging']);
    expect(stack.endpoints.source).toBe('dev');
    expect(stack.endpoints.environments).toEqual({ dev: ['dev'], staging: ['staging'], prod: ['prod'] });
    const { privateKeyPath, publicKeyPath } = localSigningKeyPaths(stateDir);
    expect(statSync(privateKeyPath).mode & 0o777).toBe(0o600);
    expect(existsSync(publicKeyPath)).toBe(true);
    const banner = logs.join('\n');
    expect(banner).toContain(`signing key: created an ECDSA P-256 pair in ${privateKeyPath}`);
    expect(banner).toContain('dev → staging [scan (referrer: critical 0, high ≤ 2), 1 of 1 approval]; staging → prod [scan (referrer: critical 0, high ≤ 2), signature, tests (HTTP hook), 2 of 3 approvals]');
    // Registries in config order; the replication hint looks at dr, the rule's target.
    expect(banner).toMatch(/registry dev .*\n.*registry staging .*\n.*registry prod .*\n.*registry dr /);
    expect(banner).toContain(`skopeo inspect --tls-verify=false docker://${host('dr')}/app:v1`);
    expect(banner).toContain(`npx regman demo --state-dir ${stateDir}`);
    expect(banner).toContain(`npx regman attach --artifact-type application/sarif+json report.sarif ${host('dev')}/app:v1 --plain-http`);
    expect(banner).toContain(`npx regman promote --state-dir ${stateDir} --repository app --tag v1 --from dev --to staging`);
    expect(banner).toContain(`npx regman approve <execution id> --state-dir ${stateDir} --as approver@example.com`);
  });

  it('regman demo pushes a signed two-platform index with an SBOM and a scan report, which replicates to dr; then dev → staging → prod pass every gate', async () => {
    // Act: the CLI, as a user runs it
    const run = await regman(['demo', '--state-dir', stateDir, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const demo = JSON.parse(run.stdout) as DemoResult;

    // Assess: what was pushed, at the source, and its replication to dr (recorded in the audit log)
    expect(demo).toMatchObject({ registry: 'dev', repository: 'demo/app', tag: 'v1.0.0', image: `${host('dev')}/demo/app:v1.0.0` });
    expect(demo.platforms.map((p) => p.platform)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(await skopeoDigest(`${host('dev')}/demo/app:v1.0.0`)).toBe(demo.digest);
    expect(demo.sbom.listedVia).toBe('fallback-tag');
    expect(demo.scanReport.listedVia).toBe('fallback-tag');
    expect(demo.replication).toEqual([{ target: 'dr', repository: 'demo/app', outcome: 'success' }]);
    expect(await skopeoDigest(`${host('dr')}/demo/app:v1.0.0`)).toBe(demo.digest);
    // Promotion alone writes staging and prod.
    await expect(skopeoDigest(`${host('staging')}/demo/app:v1.0.0`)).rejects.toThrow();
    expect(demo.next).toEqual(expect.arrayContaining([
      `skopeo inspect --tls-verify=false --raw docker://${host('dr')}/demo/app:v1.0.0`,
      `npx regman promote --state-dir ${stateDir} --repository demo/app --tag v1.0.0 --from dev --to staging --wait`,
      `npx regman promote --state-dir ${stateDir} --repository demo/app --tag v1.0.0 --from staging --to prod --wait`,
      `  (in another terminal) npx regman approve <execution id> --state-dir ${stateDir} --as alice@example.com  &&  npx regman approve <execution id> --state-dir ${stateDir} --as bob@example.com`,
    ]));

    // dev → staging: the scan gate reads the demo's SARIF referrer (1 high, 1 medium is within critical 0, high ≤ 2)
    const toStaging = await promote('v1.0.0', 'dev', 'staging', ['approver@example.com']);
    expect(toStaging.status, JSON.stringify(toStaging.error)).toBe('SUCCEEDED');
    expect(toStaging.digest).toBe(demo.digest);
    expect(toStaging.gates.map((g) => [g.gate, g.passed, g.summary])).toEqual([['scan', true, '0 critical, 1 high, 1 medium']]);
    expect(await skopeoDigest(`${host('staging')}/demo/app:v1.0.0`)).toBe(demo.digest);

    // staging → prod: scan again, the signature by the stack's key (synced to staging with the image), the stack's own test hook, 2 of 3
    const toProd = await promote('v1.0.0', 'staging', 'prod', ['alice@example.com', 'bob@example.com']);
    expect(toProd.status, JSON.stringify(toProd.error)).toBe('SUCCEEDED');
    expect(toProd.gates.map((g) => [g.gate, g.passed])).toEqual([['scan', true], ['signature', true], ['tests', true]]);
    expect(toProd.gates.find((g) => g.gate === 'signature')?.summary).toMatch(/regman-local/);
    expect(toProd.gates.find((g) => g.gate === 'tests')?.summary).toBe(`HTTP hook ${stack.endpoints.control}/hooks/tests passed`);
    expect(toProd.approvers.map((a) => a.identity).sort()).toEqual(['alice@example.com', 'bob@example.com']);
    expect(await skopeoDigest(`${host('prod')}/demo/app:v1.0.0`)).toBe(demo.digest);

    // The reports read what the workflow wrote: the prod release with its evidence, and the promotion's bytes per pair.
    const [compliance, evidence] = await Promise.all([
      regman(['report', 'compliance', '--state-dir', stateDir, '--since', '1h', '--format', 'json']),
      regman(['report', 'evidence', '--state-dir', stateDir, '--env', 'prod', '--repository', 'demo/app', '--digest', demo.digest]),
    ]);
    expect(compliance.code, compliance.stderr).toBe(0);
    const report = JSON.parse(compliance.stdout) as ComplianceReport;
    expect(report.promotions.map((p) => [p.executionId, p.environment, p.from, p.outcome])).toEqual([[toProd.executionId, 'prod', 'staging', 'promoted']]);
    const release = report.promotions[0]!;
    expect(release).toMatchObject({ digest: demo.digest, requester: 'cli:dana', scan: { outcome: 'success', result: '0 critical, 1 high, 1 medium' }, signature: { outcome: 'success' }, test: { outcome: 'success' } });
    expect(release.approvers.map((a) => [a.approver, a.decision]).sort()).toEqual([['alice@example.com', 'approved'], ['bob@example.com', 'approved']]);
    expect(release.tags).toEqual(expect.arrayContaining(['v1.0.0', toProd.envTag]));
    expect(report.chain.ok).toBe(true);
    expect(evidence.code, evidence.stderr).toBe(0);
    expect(JSON.parse(evidence.stdout)).toMatchObject({ kind: 'regman.release-evidence', executionId: toProd.executionId, environment: 'prod', outcome: 'promoted' });
  }, 180_000);
});
