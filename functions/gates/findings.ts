// Pure scan-gate policy: findings → allowlist (with expiry) → fixableOnly → counts per severity → thresholds.
import type { Severity, SeverityCounts } from './types.ts';

/** One vulnerability finding, whatever the source (SARIF, Trivy JSON, ECR basic/enhanced). */
export interface Finding {
  /** The vulnerability id, e.g. `CVE-2023-1234` or `GHSA-…`. */
  readonly id: string;
  readonly severity: Severity;
  /** True when a fixed version exists; undefined when the source does not say. */
  readonly fixable?: boolean;
  readonly package?: string;
}

/** One allowlist entry as configured: `expires` is an ISO date (`2026-03-01`) or date-time. */
export interface AllowlistEntry {
  readonly id: string;
  readonly expires: string;
  readonly reason: string;
}

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'informational', 'undefined'];

export interface FindingsEvaluation {
  readonly passed: boolean;
  readonly counts: Record<Severity, number>;
  /** Severities whose count exceeds its threshold, e.g. `1 critical > 0`. */
  readonly exceeded: readonly string[];
  /** Ids removed by a live allowlist entry (each once). */
  readonly allowlisted: readonly string[];
  /** Ids that matched an expired entry and were therefore counted (each once). */
  readonly expiredAllowlist: readonly string[];
  /** Findings dropped by `fixableOnly` (no fix known). */
  readonly unfixable: number;
}

/**
 * An allowlist entry applies until the end of its `expires` instant. A bare date means the end of that
 * day in UTC (an entry `expires: 2026-03-01` still applies on March 1st).
 */
export function allowlistExpiry(expires: string): Date {
  return /^\d{4}-\d{2}-\d{2}$/.test(expires) ? new Date(`${expires}T23:59:59.999Z`) : new Date(expires);
}

/**
 * Applies the gate's policy to findings. Order: allowlist (an id appearing in several packages is
 * removed everywhere), then `fixableOnly` (a finding whose fixability is unknown counts, so a source
 * that cannot say never hides findings), then counts compared with `thresholds` (`high: 2` allows 2).
 */
export function evaluateFindings(
  findings: readonly Finding[],
  policy: { readonly thresholds: SeverityCounts; readonly allowlist?: readonly AllowlistEntry[]; readonly fixableOnly?: boolean },
  now: Date,
): FindingsEvaluation {
  const live = new Set<string>();
  const expired = new Set<string>();
  for (const e of policy.allowlist ?? []) {
    const key = e.id.toUpperCase();
    if (allowlistExpiry(e.expires).getTime() >= now.getTime()) live.add(key);
    else expired.add(key);
  }
  const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  const allowlisted = new Set<string>();
  const expiredHit = new Set<string>();
  let unfixable = 0;
  for (const f of findings) {
    const key = f.id.toUpperCase();
    if (live.has(key)) {
      allowlisted.add(f.id);
      continue;
    }
    if (expired.has(key)) expiredHit.add(f.id);
    if (policy.fixableOnly === true && f.fixable === false) {
      unfixable += 1;
      continue;
    }
    counts[f.severity] += 1;
  }
  const exceeded: string[] = [];
  for (const s of SEVERITIES) {
    const max = policy.thresholds[s];
    if (max !== undefined && counts[s] > max) exceeded.push(`${counts[s]} ${s} > ${max}`);
  }
  return {
    passed: exceeded.length === 0,
    counts,
    exceeded,
    allowlisted: [...allowlisted].sort(),
    expiredAllowlist: [...expiredHit].sort(),
    unfixable,
  };
}

/** One line for approvers: `0 critical, 1 high (2 allowlisted; expired allowlist: CVE-1)`. */
export function summarizeEvaluation(e: FindingsEvaluation, thresholds: SeverityCounts): string {
  const shown = SEVERITIES.filter((s) => thresholds[s] !== undefined || e.counts[s] > 0);
  const parts = (shown.length > 0 ? shown : (['critical', 'high'] as const)).map((s) => `${e.counts[s]} ${s}`);
  const notes: string[] = [];
  if (e.allowlisted.length > 0) notes.push(`${e.allowlisted.length} allowlisted`);
  if (e.unfixable > 0) notes.push(`${e.unfixable} without a fix ignored`);
  if (e.expiredAllowlist.length > 0) notes.push(`expired allowlist entries no longer apply: ${e.expiredAllowlist.join(', ')}`);
  return parts.join(', ') + (notes.length > 0 ? ` (${notes.join('; ')})` : '');
}

/** Maps a scanner's severity word (Trivy, ECR, Grype) to ours; unknown words are `undefined`. */
export function severityFromWord(word: string | undefined): Severity | undefined {
  switch (word?.trim().toUpperCase()) {
    case 'CRITICAL':
      return 'critical';
    case 'HIGH':
      return 'high';
    case 'MEDIUM':
    case 'MODERATE':
      return 'medium';
    case 'LOW':
      return 'low';
    case 'INFORMATIONAL':
    case 'NEGLIGIBLE':
    case 'INFO':
      return 'informational';
    case 'UNKNOWN':
    case 'UNDEFINED':
      return 'undefined';
    default:
      return undefined;
  }
}
