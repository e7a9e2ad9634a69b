// The scan gate reading SARIF / Trivy JSON reports attached as OCI referrers to images in a real registry.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScanGate } from '../../functions/gates/scan.ts';
import type { GateInput } from '../../functions/gates/types.ts';
import { pushImage, pushReferrer, pushSbomReferrer } from '../helpers/images.ts';
import { useRegistryWithClient } from '../helpers/registry.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/scan-reports/${name}`, import.meta.url));
const NOW = () => new Date('2026-02-01T12:00:00Z');
const thresholds = { critical: 0, high: 2 };

describe('scan gate, source referrer, against distribution (fallback tag schema)', () => {
  const ctx = useRegistryWithClient();
  const input = (repository: string, digest: string): GateInput => ({
    repository, tag: 'v1', digest, edge: { from: 'dev', to: 'staging' }, registry: 'dev', correlationId: 'c1',
  });
  async function imageWith(repo: string, reports: { type: string; data: Buffer; created?: string }[]): Promise<string> {
    const image = await pushImage(ctx.reg, repo, 'v1');
    await pushSbomReferrer(ctx.reg, repo, image.descriptor);
    for (const r of reports) {
      await pushReferrer(ctx.reg, repo, image.descriptor, { artifactType: r.type, data: r.data, ...(r.created ? { annotations: { 'org.opencontainers.image.created': r.created } } : {}) });
    }
    return image.digest;
  }

  it('fails on a Trivy SARIF report with one critical, and passes once it is allowlisted; an expired entry does not count', async () => {
    // Prepare
    const digest = await imageWith('scan/trivy', [{ type: 'application/sarif+json', data: fixture('trivy.sarif.json') }]);
    // Act
    const plain = await runScanGate(input('scan/trivy', digest), { maxFindings: thresholds }, { registry: ctx.client, now: NOW });
    const allowed = await runScanGate(input('scan/trivy', digest), {
      maxFindings: thresholds, allowlist: [{ id: 'CVE-2023-38545', expires: '2026-06-30', reason: 'curl not used at runtime' }],
    }, { registry: ctx.client, now: NOW });
    const expired = await runScanGate(input('scan/trivy', digest), {
      maxFindings: thresholds, allowlist: [{ id: 'CVE-2023-38545', expires: '2026-01-15', reason: 'old' }],
    }, { registry: ctx.client, now: NOW });
    // Assess
    expect(plain).toMatchObject({ gate: 'scan', passed: false, details: { source: 'referrer', format: 'sarif', counts: { critical: 1, high: 2, medium: 1, low: 1 } } });
    expect(plain.reason).toBe(`scan/trivy@${digest} has too many findings: 1 critical > 0 (1 critical, 2 high, 1 medium, 1 low)`);
    expect(allowed.passed).toBe(true);
    expect(allowed.details).toMatchObject({ allowlisted: ['CVE-2023-38545'], counts: { critical: 0 } });
    expect(expired.passed).toBe(false);
    expect(expired.summary).toContain('expired allowlist entries no longer apply: CVE-2023-38545');
    expect(expired.details).toMatchObject({ expiredAllowlist: ['CVE-2023-38545'] });
  });

  it('reads a Trivy JSON report, and the newest report when several are attached', async () => {
    // Prepare: an old SARIF with a critical, then a newer Trivy JSON; fixableOnly drops bash and apt
    const digest = await imageWith('scan/json', [
      { type: 'application/sarif+json', data: fixture('trivy.sarif.json'), created: '2026-01-01T00:00:00Z' },
      { type: 'application/vnd.aquasec.trivy.report+json', data: fixture('trivy.json'), created: '2026-01-20T00:00:00Z' },
    ]);
    // Act
    const result = await runScanGate(input('scan/json', digest), { maxFindings: { high: 1 }, fixableOnly: true }, { registry: ctx.client, now: NOW });
    // Assess
    expect(result.passed).toBe(true);
    expect(result.details).toMatchObject({ format: 'trivy-json', counts: { critical: 1, high: 1 }, unfixable: 2 });
  });

  it('fails with "no scan report attached" when only other referrers exist', async () => {
    // Prepare
    const digest = await imageWith('scan/none', []);
    // Act
    const result = await runScanGate(input('scan/none', digest), { maxFindings: thresholds }, { registry: ctx.client, now: NOW });
    // Assess
    expect(result.passed).toBe(false);
    expect(result.reason).toMatch(new RegExp(`^no scan report attached to ${digest} \\(scan/none@${digest}\\): attach one with regman attach`));
  });

  it('fails with a clear message on a malformed report, naming the report digest', async () => {
    // Prepare
    const digest = await imageWith('scan/bad', [{ type: 'application/sarif+json', data: Buffer.from('{"version":"2.1.0","runs":[{"results":[{}]}]}') }]);
    // Act
    const result = await runScanGate(input('scan/bad', digest), { maxFindings: thresholds }, { registry: ctx.client, now: NOW });
    // Assess
    expect(result.passed).toBe(false);
    expect(result.reason).toMatch(/^The scan report sha256:[0-9a-f]{64} attached to scan\/bad@sha256:[0-9a-f]{64} is malformed: runs\[0\]\.results\[0\] has no ruleId/);
    expect(result.details).toMatchObject({ reportDigest: expect.stringMatching(/^sha256:/) });
  });
});
