// The scan gate: findings from an attached SARIF / Trivy JSON report or from ECR, judged against the edge's thresholds.
import type { ScanGate } from '../config/types.ts';
import { evaluateFindings, summarizeEvaluation, type Finding } from './findings.ts';
import { GateError } from './errors.ts';
import { parseScanReport } from './reports/parse-report.ts';
import { findScanReport } from './scan-report.ts';
import { readEcrFindings } from './scan-ecr.ts';
import type { GateInput, GateResult, RunScanGate, ScanGateDetails } from './types.ts';

/** The scan gate's config as the gate reads it (defaults applied by the schema, optional here for callers). */
export type ScanGateConfig = Pick<ScanGate, 'maxFindings'> & Partial<Omit<ScanGate, 'maxFindings'>>;

/**
 * Runs the scan gate for one digest. Returns `passed: false` with a reason when findings exceed the
 * thresholds, no report is attached, the report is malformed, or ECR cannot scan the image; throws
 * only when it could not decide (registry or ECR unavailable).
 */
export const runScanGate: RunScanGate<ScanGateConfig> = async (input, config, deps) => {
  const source = config.source ?? 'referrer';
  const image = `${input.repository}@${input.digest}`;
  let findings: readonly Finding[];
  let reportDigest: string | undefined;
  let format: string;
  try {
    if (source === 'referrer') {
      const report = await findScanReport(deps.registry, input.repository, input.digest);
      if (report === undefined) {
        return fail(input, source, `no scan report attached to ${input.digest} (${image}): attach one with ` +
          `regman attach --artifact-type application/sarif+json report.sarif ${input.repository}@${input.digest}`);
      }
      reportDigest = report.referrer.digest;
      const parsed = parseScanReport(report.bytes, `${report.blobDigest} attached to ${image}`);
      findings = parsed.findings;
      format = parsed.format;
    } else {
      const ecr = await readEcrFindings(input, config, deps);
      if (!ecr.ok) return fail(input, source, ecr.reason);
      findings = ecr.findings;
      format = 'ecr';
    }
  } catch (err) {
    if (err instanceof GateError && err.code === 'REPORT_MALFORMED') return fail(input, source, err.message, reportDigest);
    throw err;
  }
  const thresholds = config.maxFindings;
  const evaluation = evaluateFindings(findings, { thresholds, allowlist: config.allowlist ?? [], fixableOnly: config.fixableOnly ?? false }, deps.now());
  const summary = summarizeEvaluation(evaluation, thresholds);
  const details: ScanGateDetails & { format: string; unfixable: number } = {
    source,
    counts: evaluation.counts,
    thresholds,
    allowlisted: evaluation.allowlisted,
    expiredAllowlist: evaluation.expiredAllowlist,
    ...(reportDigest !== undefined ? { reportDigest } : {}),
    format,
    unfixable: evaluation.unfixable,
  };
  return {
    gate: 'scan',
    passed: evaluation.passed,
    summary,
    details: { ...details },
    ...(evaluation.passed ? {} : { reason: `${image} has too many findings: ${evaluation.exceeded.join(', ')} (${summary})` }),
  };
};

function fail(input: GateInput, source: 'referrer' | 'ecr', reason: string, reportDigest?: string): GateResult {
  return {
    gate: 'scan',
    passed: false,
    summary: reason,
    reason,
    details: { source, counts: {}, allowlisted: [], expiredAllowlist: [], ...(reportDigest !== undefined ? { reportDigest } : {}), digest: input.digest },
  };
}
