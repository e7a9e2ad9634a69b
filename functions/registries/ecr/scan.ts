// Scan findings as an optional adapter capability (ScanFindingsSource), and the mapping of ECR's DescribeImageScanFindings pages to it.
import type { DescribeImageScanFindingsResponse, EnhancedImageScanFinding, ImageScanFinding } from '@aws-sdk/client-ecr';

/** Severities, spelled as the promotion scan gate's `maxFindings` keys (functions/config/schema.ts). */
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational', 'undefined'] as const;
export type Severity = (typeof SEVERITIES)[number];

/**
 * ECR's scan status (`COMPLETE`, `IN_PROGRESS`, `FAILED`, `UNSUPPORTED_IMAGE`, …:
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageScanStatus.html), or
 * `NOT_SCANNED` when ECR has no scan of the image (ScanNotFoundException). A gate passes only on
 * `COMPLETE`.
 */
export type ScanStatus = string;

export interface ScanFinding {
  /** CVE or advisory id. */
  readonly id: string;
  readonly severity: Severity;
  readonly description?: string;
  readonly uri?: string;
  /** Affected package and version, when the scanner says. */
  readonly packageName?: string;
  readonly packageVersion?: string;
  /** Enhanced scanning only: whether a fixed version exists (`fixAvailable` YES/PARTIAL vs NO). */
  readonly fixAvailable?: boolean;
}

export interface ScanFindings {
  readonly status: ScanStatus;
  /** ECR's description of the status (why a scan failed, for example). */
  readonly statusDescription?: string;
  /** ISO time the scan completed. */
  readonly completedAt?: string;
  /** Findings per severity, every severity present (0 when none). */
  readonly counts: Readonly<Record<Severity, number>>;
  readonly findings: readonly ScanFinding[];
}

/**
 * Optional capability: an adapter whose registry scans images. Checked at run time (regclient-style)
 * with isScanFindingsSource, since only some registries (ECR) offer it.
 *
 * @example
 * if (isScanFindingsSource(adapter)) {
 *   const { status, counts } = await adapter.describeScanFindings('team/app', 'sha256:…');
 * }
 */
export interface ScanFindingsSource {
  describeScanFindings(repository: string, digest: string): Promise<ScanFindings>;
}

export function isScanFindingsSource(value: unknown): value is ScanFindingsSource {
  return typeof value === 'object' && value !== null && typeof (value as Partial<ScanFindingsSource>).describeScanFindings === 'function';
}

export function zeroCounts(): Record<Severity, number> {
  return { critical: 0, high: 0, medium: 0, low: 0, informational: 0, undefined: 0 };
}

/**
 * Basic scanning says CRITICAL…INFORMATIONAL and UNDEFINED; enhanced scanning (Amazon Inspector)
 * also says UNTRIAGED, counted as `undefined`.
 */
export function severityOf(value: string | undefined): Severity {
  const s = (value ?? '').toLowerCase();
  return (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : 'undefined';
}

function basicFinding(f: ImageScanFinding): ScanFinding {
  const attr = (key: string): string | undefined => f.attributes?.find((a) => a.key === key)?.value;
  const packageName = attr('package_name');
  const packageVersion = attr('package_version');
  return {
    id: f.name ?? 'unnamed',
    severity: severityOf(f.severity),
    ...(f.description !== undefined ? { description: f.description } : {}),
    ...(f.uri !== undefined ? { uri: f.uri } : {}),
    ...(packageName !== undefined ? { packageName } : {}),
    ...(packageVersion !== undefined ? { packageVersion } : {}),
  };
}

function enhancedFinding(f: EnhancedImageScanFinding): ScanFinding {
  const details = f.packageVulnerabilityDetails;
  const pkg = details?.vulnerablePackages?.[0];
  const uri = details?.sourceUrl ?? details?.referenceUrls?.[0];
  return {
    id: details?.vulnerabilityId ?? f.title ?? f.findingArn ?? 'unnamed',
    severity: severityOf(f.severity),
    ...(f.description !== undefined ? { description: f.description } : {}),
    ...(uri !== undefined ? { uri } : {}),
    ...(pkg?.name !== undefined ? { packageName: pkg.name } : {}),
    ...(pkg?.version !== undefined ? { packageVersion: pkg.version } : {}),
    ...(f.fixAvailable !== undefined ? { fixAvailable: f.fixAvailable !== 'NO' } : {}),
  };
}

/**
 * Folds the pages of DescribeImageScanFindings into one result. Findings come page by page; ECR's
 * `findingSeverityCounts` is the whole scan's total (the same on every page), so it is taken once,
 * and counted from the findings only when ECR leaves it out.
 */
export function mapScanFindings(pages: readonly DescribeImageScanFindingsResponse[]): ScanFindings {
  const first = pages[0];
  const findings: ScanFinding[] = [];
  let ecrCounts: Partial<Record<string, number>> | undefined;
  for (const page of pages) {
    const scan = page.imageScanFindings;
    findings.push(...(scan?.findings ?? []).map(basicFinding), ...(scan?.enhancedFindings ?? []).map(enhancedFinding));
    ecrCounts ??= scan?.findingSeverityCounts;
  }
  const counts = zeroCounts();
  if (ecrCounts !== undefined) {
    for (const [severity, n] of Object.entries(ecrCounts)) counts[severityOf(severity)] += n ?? 0;
  } else {
    for (const f of findings) counts[f.severity]++;
  }
  const completedAt = first?.imageScanFindings?.imageScanCompletedAt;
  return {
    status: first?.imageScanStatus?.status ?? 'NOT_SCANNED',
    ...(first?.imageScanStatus?.description !== undefined ? { statusDescription: first.imageScanStatus.description } : {}),
    ...(completedAt !== undefined ? { completedAt: completedAt.toISOString() } : {}),
    counts,
    findings,
  };
}
