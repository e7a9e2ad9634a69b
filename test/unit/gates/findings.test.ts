// The scan gate's pure policy: allowlist with expiry, fixableOnly, thresholds, and the one-line summary.
import { describe, expect, it } from 'vitest';
import { allowlistExpiry, evaluateFindings, severityFromWord, summarizeEvaluation, type Finding } from '../../../functions/gates/findings.ts';

const NOW = new Date('2026-02-01T12:00:00Z');
const findings: Finding[] = [
  { id: 'CVE-2024-0001', severity: 'critical', fixable: true },
  { id: 'CVE-2024-0002', severity: 'high', fixable: false },
  { id: 'CVE-2024-0003', severity: 'high', fixable: true },
  { id: 'CVE-2024-0004', severity: 'high' },
  { id: 'CVE-2024-0005', severity: 'low', fixable: false },
];

describe('evaluateFindings', () => {
  const cases: {
    name: string;
    allowlist?: { id: string; expires: string; reason: string }[];
    fixableOnly?: boolean;
    passed: boolean;
    counts: Partial<Record<string, number>>;
    allowlisted?: string[];
    expired?: string[];
    exceeded?: string[];
  }[] = [
    { name: 'counts every finding without an allowlist', passed: false, counts: { critical: 1, high: 3, low: 1 }, exceeded: ['1 critical > 0', '3 high > 2'] },
    {
      name: 'a live allowlist entry removes its finding (case-insensitive id)',
      allowlist: [{ id: 'cve-2024-0001', expires: '2026-03-01', reason: 'not reachable' }, { id: 'CVE-2024-0002', expires: '2026-03-01', reason: 'x' }],
      passed: true, counts: { critical: 0, high: 2 }, allowlisted: ['CVE-2024-0001', 'CVE-2024-0002'],
    },
    {
      name: 'an expired entry no longer applies and is reported',
      allowlist: [{ id: 'CVE-2024-0001', expires: '2026-01-31', reason: 'old waiver' }],
      passed: false, counts: { critical: 1 }, expired: ['CVE-2024-0001'], exceeded: ['1 critical > 0', '3 high > 2'],
    },
    {
      name: 'a bare date applies through the end of that day (UTC)',
      allowlist: [{ id: 'CVE-2024-0001', expires: '2026-02-01', reason: 'today' }],
      passed: false, counts: { critical: 0, high: 3 }, allowlisted: ['CVE-2024-0001'], exceeded: ['3 high > 2'],
    },
    {
      name: 'fixableOnly drops findings known to have no fix, but keeps unknown fixability',
      fixableOnly: true, passed: false, counts: { critical: 1, high: 2, low: 0 }, exceeded: ['1 critical > 0'],
    },
  ];
  it.each(cases)('$name', (c) => {
    // Act
    const e = evaluateFindings(findings, { thresholds: { critical: 0, high: 2 }, ...(c.allowlist ? { allowlist: c.allowlist } : {}), ...(c.fixableOnly ? { fixableOnly: true } : {}) }, NOW);
    // Assess
    expect(e.passed).toBe(c.passed);
    expect(e.counts).toMatchObject(c.counts);
    expect(e.allowlisted).toEqual(c.allowlisted ?? []);
    expect(e.expiredAllowlist).toEqual(c.expired ?? []);
    if (c.exceeded) expect(e.exceeded).toEqual(c.exceeded);
  });

  it('summarizes counts, allowlisted, ignored and expired entries in one line', () => {
    // Prepare
    const thresholds = { critical: 0, high: 2 };
    const e = evaluateFindings(findings, {
      thresholds, fixableOnly: true,
      allowlist: [{ id: 'CVE-2024-0003', expires: '2027-01-01', reason: 'x' }, { id: 'CVE-2024-0001', expires: '2025-01-01T00:00:00Z', reason: 'y' }],
    }, NOW);
    // Act
    const line = summarizeEvaluation(e, thresholds);
    // Assess
    expect(line).toBe('1 critical, 1 high (1 allowlisted; 2 without a fix ignored; expired allowlist entries no longer apply: CVE-2024-0001)');
  });
});

describe('allowlistExpiry and severityFromWord', () => {
  it.each([
    ['2026-03-01', '2026-03-01T23:59:59.999Z'],
    ['2026-03-01T10:00:00Z', '2026-03-01T10:00:00.000Z'],
  ])('%s expires at %s', (input, iso) => expect(allowlistExpiry(input).toISOString()).toBe(iso));

  it.each([
    ['CRITICAL', 'critical'], ['High', 'high'], ['moderate', 'medium'], ['LOW', 'low'], ['Negligible', 'informational'], ['UNKNOWN', 'undefined'], ['weird', undefined],
  ])('%s → %s', (word, sev) => expect(severityFromWord(word)).toBe(sev));
});
