// ECR scan findings: DescribeImageScanFindings paginated, mapped to status, counts by severity and findings; an optional capability.
import { afterEach, describe, expect, it } from 'vitest';
import { DescribeImageScanFindingsCommand, ScanNotFoundException, type DescribeImageScanFindingsRequest } from '@aws-sdk/client-ecr';
import { isScanFindingsSource } from '../../../functions/registries/ecr/adapter.ts';
import { mapScanFindings, severityOf } from '../../../functions/registries/ecr/scan.ts';
import { ACCOUNT, answer, digestN, harness, type Harness } from './ecr-support.ts';

let h: Harness | undefined;
afterEach(() => {
  h?.adapter.close();
  h?.mock.restore();
  h = undefined;
});

describe('describeScanFindings', () => {
  it('reads every page and maps status, ECR\'s totals per severity, and each finding', async () => {
    // Prepare
    h = harness();
    const inputs = answer<DescribeImageScanFindingsRequest>(h.mock, DescribeImageScanFindingsCommand, [
      {
        imageScanStatus: { status: 'COMPLETE', description: 'The scan was completed successfully.' },
        imageScanFindings: {
          imageScanCompletedAt: new Date('2024-05-01T12:00:00Z'),
          findingSeverityCounts: { CRITICAL: 1, HIGH: 2, LOW: 1 },
          findings: [{
            name: 'CVE-2024-0001', severity: 'CRITICAL', uri: 'https://security-tracker.debian.org/tracker/CVE-2024-0001',
            attributes: [{ key: 'package_name', value: 'openssl' }, { key: 'package_version', value: '3.0.1' }],
          }, { name: 'CVE-2024-0002', severity: 'HIGH' }],
        },
        nextToken: 'page2',
      },
      {
        imageScanStatus: { status: 'COMPLETE' },
        imageScanFindings: { findingSeverityCounts: { CRITICAL: 1, HIGH: 2, LOW: 1 }, findings: [{ name: 'CVE-2024-0003', severity: 'HIGH' }, { name: 'CVE-2024-0004', severity: 'LOW' }] },
      },
    ]);

    // Act
    const scan = await h.adapter.describeScanFindings('team/app', digestN(1));

    // Assess
    expect(inputs.map((i) => i.nextToken)).toEqual([undefined, 'page2']);
    expect(inputs[0]).toMatchObject({ registryId: ACCOUNT, repositoryName: 'team/app', imageId: { imageDigest: digestN(1) }, maxResults: 1000 });
    expect(scan.status).toBe('COMPLETE');
    expect(scan.completedAt).toBe('2024-05-01T12:00:00.000Z');
    expect(scan.counts).toEqual({ critical: 1, high: 2, medium: 0, low: 1, informational: 0, undefined: 0 });
    expect(scan.findings.map((f) => f.id)).toEqual(['CVE-2024-0001', 'CVE-2024-0002', 'CVE-2024-0003', 'CVE-2024-0004']);
    expect(scan.findings[0]).toEqual({
      id: 'CVE-2024-0001', severity: 'critical', uri: 'https://security-tracker.debian.org/tracker/CVE-2024-0001', packageName: 'openssl', packageVersion: '3.0.1',
    });
  });

  it('maps enhanced (Inspector) findings, counting them when ECR sends no totals', () => {
    const scan = mapScanFindings([{
      imageScanStatus: { status: 'ACTIVE' },
      imageScanFindings: {
        enhancedFindings: [
          {
            severity: 'HIGH', description: 'heap overflow',
            packageVulnerabilityDetails: { vulnerabilityId: 'CVE-2024-1111', sourceUrl: 'https://nvd.nist.gov/vuln/detail/CVE-2024-1111', vulnerablePackages: [{ name: 'zlib', version: '1.2.11' }] },
          },
          { severity: 'UNTRIAGED', title: 'GHSA-xxxx' },
        ],
      },
    }]);
    expect(scan.counts).toEqual({ critical: 0, high: 1, medium: 0, low: 0, informational: 0, undefined: 1 });
    expect(scan.findings).toEqual([
      { id: 'CVE-2024-1111', severity: 'high', description: 'heap overflow', uri: 'https://nvd.nist.gov/vuln/detail/CVE-2024-1111', packageName: 'zlib', packageVersion: '1.2.11' },
      { id: 'GHSA-xxxx', severity: 'undefined' },
    ]);
  });

  it('answers NOT_SCANNED with no findings when ECR has no scan of the image', async () => {
    h = harness();
    h.mock.on(DescribeImageScanFindingsCommand).rejects(new ScanNotFoundException({ message: 'Image scan does not exist', $metadata: {} }));
    await expect(h.adapter.describeScanFindings('team/app', digestN(1))).resolves.toEqual({
      status: 'NOT_SCANNED', counts: { critical: 0, high: 0, medium: 0, low: 0, informational: 0, undefined: 0 }, findings: [],
    });
  });

  it('passes a scan still in progress through as its status, for the gate to refuse', async () => {
    h = harness();
    h.mock.on(DescribeImageScanFindingsCommand).resolves({ imageScanStatus: { status: 'IN_PROGRESS' } });
    await expect(h.adapter.describeScanFindings('team/app', digestN(1))).resolves.toMatchObject({ status: 'IN_PROGRESS', findings: [] });
  });

  it.each([['CRITICAL', 'critical'], ['informational', 'informational'], ['UNTRIAGED', 'undefined'], [undefined, 'undefined']])('severity %s → %s', (from, to) => {
    expect(severityOf(from)).toBe(to);
  });
});

describe('isScanFindingsSource', () => {
  it('recognises the ECR adapter and nothing without the method', () => {
    h = harness();
    expect(isScanFindingsSource(h.adapter)).toBe(true);
    expect(isScanFindingsSource({ listImages: () => [] })).toBe(false);
    expect(isScanFindingsSource(undefined)).toBe(false);
  });
});
