// The scan gate on ECR findings, through the real ECR adapter with a mocked ECR client: waiting, settling, failing statuses.
import { afterEach, describe, expect, it } from 'vitest';
import { DescribeImageScanFindingsCommand, ScanNotFoundException, type DescribeImageScanFindingsResponse } from '@aws-sdk/client-ecr';
import { runScanGate } from '../../../functions/gates/scan.ts';
import { ecrFindingsReader } from '../../../functions/gates/scan-ecr.ts';
import type { GateInput } from '../../../functions/gates/types.ts';
import { answer, digestN, harness, type Harness } from '../registries/ecr-support.ts';

let h: Harness | undefined;
afterEach(() => {
  h?.adapter.close();
  h?.mock.restore();
  h = undefined;
});

const input: GateInput = { repository: 'team/app', tag: 'v1', digest: digestN(7), edge: { from: 'dev', to: 'staging' }, registry: 'ecr-main', correlationId: 'c1' };
const config = { source: 'ecr' as const, maxFindings: { critical: 0, high: 1 }, timeouts: { pendingSeconds: 30, pollSeconds: 10 } };

const page = (status: string, enhanced: { id: string; severity: string; fix?: 'YES' | 'NO' }[] = [], description?: string): DescribeImageScanFindingsResponse => ({
  imageScanStatus: { status: status as never, ...(description ? { description } : {}) },
  imageScanFindings: {
    enhancedFindings: enhanced.map((f) => ({ severity: f.severity, ...(f.fix ? { fixAvailable: f.fix } : {}), packageVulnerabilityDetails: { vulnerabilityId: f.id } })),
  },
});

/** A fake clock that advances by each sleep, so the pending timeout is exercised without waiting. */
function clock() {
  let t = Date.parse('2026-02-01T00:00:00Z');
  const sleeps: number[] = [];
  return { now: () => new Date(t), sleep: async (ms: number) => void (sleeps.push(ms), (t += ms)), sleeps };
}

async function run(responses: (DescribeImageScanFindingsResponse | Error)[], cfg: Record<string, unknown> = config) {
  h = harness();
  const calls = answer(h.mock, DescribeImageScanFindingsCommand, responses);
  const c = clock();
  const result = await runScanGate(input, cfg as typeof config, {
    registry: h.adapter as never, ecrFindings: ecrFindingsReader(h.adapter), now: c.now, sleep: c.sleep,
  });
  return { result, calls, sleeps: c.sleeps };
}

describe('scan gate, source ecr', () => {
  it('waits while the scan is IN_PROGRESS, then re-reads until two reads agree (enhanced findings arrive late)', async () => {
    // Act
    const { result, calls, sleeps } = await run([
      page('IN_PROGRESS'),
      page('COMPLETE', [{ id: 'CVE-1', severity: 'HIGH' }]),
      page('COMPLETE', [{ id: 'CVE-1', severity: 'HIGH' }, { id: 'CVE-2', severity: 'CRITICAL' }]),
      page('COMPLETE', [{ id: 'CVE-2', severity: 'CRITICAL' }, { id: 'CVE-1', severity: 'HIGH' }]),
    ]);
    // Assess
    expect(calls).toHaveLength(4);
    expect(sleeps).toEqual([10_000, 10_000, 10_000]);
    expect(result.passed).toBe(false);
    expect(result.details).toMatchObject({ source: 'ecr', counts: { critical: 1, high: 1 } });
    expect(result.reason).toContain('team/app@sha256:');
    expect(result.reason).toContain('1 critical > 0');
  });

  it('passes with allowlisted and unfixable findings removed', async () => {
    // Act
    const { result } = await run(
      [page('ACTIVE', [{ id: 'CVE-2', severity: 'CRITICAL', fix: 'NO' }, { id: 'CVE-3', severity: 'HIGH', fix: 'YES' }, { id: 'CVE-4', severity: 'HIGH', fix: 'YES' }])],
      { ...config, fixableOnly: true, allowlist: [{ id: 'CVE-3', expires: '2027-01-01', reason: 'mitigated' }] },
    );
    // Assess
    expect(result.passed).toBe(true);
    expect(result.summary).toBe('0 critical, 1 high (1 allowlisted; 1 without a fix ignored)');
  });

  it.each([
    ['SCAN_ELIGIBILITY_EXPIRED', /push it again or raise the repository's enhanced scanning duration/],
    ['LIMIT_EXCEEDED', /once per 24 hours/],
    ['UNSUPPORTED_IMAGE', /scan it in CI and attach the report/],
    ['FAILED', /start a new scan \(aws ecr start-image-scan\)/],
  ])('fails on %s with what to do', async (status, advice) => {
    // Act
    const { result, calls } = await run([page(status, [], 'ECR says so')]);
    // Assess
    expect(calls).toHaveLength(1);
    expect(result.passed).toBe(false);
    expect(result.reason).toContain(`ECR scan of team/app@${digestN(7)} is ${status} (ECR says so)`);
    expect(result.reason).toMatch(advice);
  });

  it('fails after the pending timeout, telling an unscanned image how to get a scan', async () => {
    // Act
    const { result, calls } = await run([new ScanNotFoundException({ message: 'no scan', $metadata: {} })]);
    // Assess
    expect(calls).toHaveLength(4);
    expect(result.passed).toBe(false);
    expect(result.reason).toMatch(/still NOT_SCANNED after 30s: enable scan on push or run aws ecr start-image-scan/);
  });

  it('refuses source ecr without an ECR reader as a config error', async () => {
    // Act / Assess
    await expect(runScanGate(input, config, { registry: {} as never, now: () => new Date() })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
