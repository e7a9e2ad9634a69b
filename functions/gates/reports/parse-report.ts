// Turns a scan report's bytes (SARIF 2.1.0 or Trivy JSON) into findings, whichever format it is.
import type { Finding } from '../findings.ts';
import { findingsFromSarif, isSarif, malformed } from './sarif.ts';
import { findingsFromTrivyJson, isTrivyJson } from './trivy-json.ts';

/** Artifact type of a SARIF report referrer, as `oras attach --artifact-type application/sarif+json` sets it. */
export const SARIF_ARTIFACT_TYPE = 'application/sarif+json';
/** Artifact type we use (and accept) for Trivy's JSON report. */
export const TRIVY_JSON_ARTIFACT_TYPE = 'application/vnd.aquasec.trivy.report+json';
/** Every artifact type the referrer scan gate reads, best first. */
export const SCAN_REPORT_ARTIFACT_TYPES: readonly string[] = [SARIF_ARTIFACT_TYPE, TRIVY_JSON_ARTIFACT_TYPE];

export interface ParsedReport {
  readonly format: 'sarif' | 'trivy-json';
  readonly findings: readonly Finding[];
}

/** Parses by content (not by the declared type, which CI tools get wrong); `source` names it in errors. */
export function parseScanReport(bytes: Buffer, source: string): ParsedReport {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw Object.assign(malformed(source, `it is not JSON (${(err as Error).message})`), { cause: err });
  }
  if (isSarif(doc)) return { format: 'sarif', findings: findingsFromSarif(doc, source) };
  if (isTrivyJson(doc)) return { format: 'trivy-json', findings: findingsFromTrivyJson(doc, source) };
  throw malformed(source, 'it is neither SARIF 2.1.0 (no "runs") nor a Trivy JSON report (no "SchemaVersion")');
}
