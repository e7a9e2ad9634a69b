// The scan gate's ECR source: waits for a pending scan, re-reads enhanced findings until two reads agree, maps ECR statuses.
// Statuses: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageScanStatus.html
import type { ScanFindingsSource } from '../registries/ecr/scan.ts';
import type { ScanGate } from '../config/types.ts';
import { GateError } from './errors.ts';
import { severityFromWord, type Finding } from './findings.ts';
import type { EcrFindingsReader, GateInput, ScanGateDeps } from './types.ts';

/** Still being scanned: wait. `NOT_SCANNED` too, since scan-on-push starts a moment after the push. */
const PENDING = new Set(['IN_PROGRESS', 'PENDING', 'NOT_SCANNED']);
/** Findings are there. Enhanced (Inspector) scanning reports `ACTIVE` while it keeps the image under scan. */
const DONE = new Set(['COMPLETE', 'ACTIVE']);

/** What to do, per status that ends the gate with a failure. */
const ADVICE: Readonly<Record<string, string>> = {
  SCAN_ELIGIBILITY_EXPIRED:
    'Amazon Inspector no longer scans this image (its scan duration ran out): push it again or raise the repository\'s enhanced scanning duration, then promote again',
  LIMIT_EXCEEDED: 'ECR\'s scan quota for this image was reached (basic scanning: once per 24 hours): wait and promote again, or use a referrer report (gates.scan.source: referrer)',
  UNSUPPORTED_IMAGE: 'ECR cannot scan this image\'s OS or format: scan it in CI and attach the report (gates.scan.source: referrer)',
  FAILED: 'ECR\'s scan failed: start a new scan (aws ecr start-image-scan) and promote again',
  FINDINGS_UNAVAILABLE: 'Amazon Inspector has no findings for this image (it was deleted or scanning stopped): start a scan and promote again',
};

export type EcrRead = { ok: true; findings: Finding[]; status: string } | { ok: false; reason: string };

/** The ECR adapter's scan capability as the gate's small reader interface. */
export function ecrFindingsReader(source: ScanFindingsSource): EcrFindingsReader {
  return {
    async describe({ repository, digest }) {
      const scan = await source.describeScanFindings(repository, digest);
      return {
        status: scan.status,
        ...(scan.statusDescription !== undefined ? { description: scan.statusDescription } : {}),
        findings: scan.findings.map((f) => ({ id: f.id, severity: f.severity, ...(f.fixAvailable !== undefined ? { fixAvailable: f.fixAvailable } : {}) })),
      };
    },
  };
}

const fingerprint = (findings: readonly Finding[]): string => findings.map((f) => `${f.id}/${f.severity}`).sort().join(',');

/**
 * Reads ECR's findings for the digest: polls while the scan is pending (up to `timeouts.pendingSeconds`),
 * then reads again until two consecutive reads return the same findings, because enhanced findings
 * keep arriving after `COMPLETE`. Within the same deadline; a scan still settling then is judged on
 * the last read (and says so in the reason only if it failed to settle before any findings came).
 */
export async function readEcrFindings(input: GateInput, config: Pick<Partial<ScanGate>, 'timeouts'>, deps: ScanGateDeps): Promise<EcrRead> {
  const reader = deps.ecrFindings;
  if (reader === undefined) {
    throw new GateError(`gates.scan.source is ecr but the source registry ${input.registry} is not an ECR registry; use source: referrer`, { code: 'CONFIG_INVALID' });
  }
  const pendingMs = (config.timeouts?.pendingSeconds ?? 600) * 1000;
  const pollMs = (config.timeouts?.pollSeconds ?? 10) * 1000;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = deps.now().getTime() + pendingMs;
  const image = `${input.repository}@${input.digest}`;
  let previous: string | undefined;
  for (;;) {
    const page = await reader.describe({ repository: input.repository, digest: input.digest });
    const status = page.status.toUpperCase();
    if (ADVICE[status] !== undefined) {
      const why = page.description !== undefined ? ` (${page.description})` : '';
      return { ok: false, reason: `ECR scan of ${image} is ${status}${why}: ${ADVICE[status]}` };
    }
    if (DONE.has(status)) {
      const findings = page.findings.map((f) => ({
        id: f.id,
        severity: severityFromWord(f.severity) ?? 'undefined',
        ...(f.fixAvailable !== undefined ? { fixable: f.fixAvailable } : {}),
      }));
      const print = fingerprint(findings);
      if (print === previous || deps.now().getTime() >= deadline) return { ok: true, findings, status };
      previous = print;
    } else if (!PENDING.has(status)) {
      return { ok: false, reason: `ECR scan of ${image} has status ${status}, which the gate does not know: check the image's scan in the ECR console` };
    } else if (deps.now().getTime() >= deadline) {
      return {
        ok: false,
        reason: `ECR scan of ${image} was still ${status} after ${pendingMs / 1000}s: ` +
          (status === 'NOT_SCANNED' ? 'enable scan on push or run aws ecr start-image-scan, then promote again' : 'promote again later, or raise gates.scan.timeouts.pendingSeconds'),
      };
    }
    await sleep(pollMs);
  }
}
