// Scan report parsing: Trivy SARIF, Grype SARIF and Trivy JSON fixtures, and malformed reports with clear messages.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GateError } from '../../../functions/gates/errors.ts';
import { parseScanReport } from '../../../functions/gates/reports/parse-report.ts';
import { severityFromScore } from '../../../functions/gates/reports/sarif.ts';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/scan-reports/${name}`, import.meta.url));
const byId = (fs: readonly { id: string; severity: string; fixable?: boolean }[]) =>
  Object.fromEntries(fs.map((f) => [f.id, `${f.severity}${f.fixable === undefined ? '' : f.fixable ? '/fix' : '/nofix'}`]));

describe('parseScanReport', () => {
  it('reads Trivy SARIF: security-severity, fixability from the Fixed Version line', () => {
    // Act
    const r = parseScanReport(fixture('trivy.sarif.json'), 'trivy.sarif.json');
    // Assess
    expect(r.format).toBe('sarif');
    expect(byId(r.findings)).toEqual({
      'CVE-2023-38545': 'critical/fix', 'CVE-2023-4911': 'high/fix', 'CVE-2022-3715': 'high/nofix', 'CVE-2023-2650': 'medium/fix', 'CVE-2011-3374': 'low/nofix',
    });
  });

  it('reads Grype SARIF: CVE id out of <CVE>-<package> rule ids, fixability from the Fix Version column', () => {
    // Act
    const r = parseScanReport(fixture('grype.sarif.json'), 'grype.sarif.json');
    // Assess
    expect(byId(r.findings)).toEqual({ 'CVE-2023-38545': 'critical/fix', 'CVE-2023-4911': 'high/fix', 'CVE-2022-3715': 'high/nofix', 'CVE-2023-2650': 'medium/fix' });
  });

  it('reads Trivy JSON: Severity, FixedVersion / Status, and results without Vulnerabilities', () => {
    // Act
    const r = parseScanReport(fixture('trivy.json'), 'trivy.json');
    // Assess
    expect(r.format).toBe('trivy-json');
    expect(byId(r.findings)).toEqual({
      'CVE-2023-38545': 'critical/fix', 'CVE-2023-4911': 'high/fix', 'CVE-2022-3715': 'high/nofix', 'CVE-2023-2650': 'medium/fix', 'CVE-2011-3374': 'low/nofix',
    });
    expect(r.findings[0]?.package).toBe('curl');
  });

  it('falls back to tags, then levels, when a rule has no security-severity', () => {
    // Prepare
    const sarif = {
      version: '2.1.0',
      runs: [{
        tool: { driver: { name: 'x', rules: [{ id: 'CVE-2020-1111', properties: { tags: ['vulnerability', 'CRITICAL'] } }, { id: 'CVE-2020-2222', defaultConfiguration: { level: 'note' } }] } },
        results: [{ ruleId: 'CVE-2020-1111' }, { ruleIndex: 1, ruleId: 'CVE-2020-2222' }, { ruleId: 'CVE-2020-3333', level: 'warning' }, { ruleId: 'CVE-2020-4444' }],
      }],
    };
    // Act
    const r = parseScanReport(Buffer.from(JSON.stringify(sarif)), 'inline');
    // Assess
    expect(byId(r.findings)).toEqual({ 'CVE-2020-1111': 'critical', 'CVE-2020-2222': 'low', 'CVE-2020-3333': 'medium', 'CVE-2020-4444': 'undefined' });
  });

  it.each([
    ['not JSON', '{"runs": [', /not JSON/],
    ['neither format', '{"hello": 1}', /neither SARIF 2.1.0 .* nor a Trivy JSON report/],
    ['SARIF 1.0', '{"version": "1.0.0", "runs": []}', /SARIF version "1.0.0" is not 2.1.0/],
    ['results not a list', '{"version": "2.1.0", "runs": [{"results": 3}]}', /runs\[0\]\.results is not an array/],
    ['a result without a rule', '{"version": "2.1.0", "runs": [{"results": [{"level": "error"}]}]}', /runs\[0\]\.results\[0\] has no ruleId/],
    ['Trivy JSON without ids', '{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"Severity": "HIGH"}]}]}', /Results\[0\]\.Vulnerabilities\[0\] has no VulnerabilityID/],
  ])('refuses %s with REPORT_MALFORMED naming the report and what to attach', (_name, text, message) => {
    // Act
    let caught: unknown;
    try {
      parseScanReport(Buffer.from(text), 'sha256:abc attached to team/app@sha256:def');
    } catch (err) {
      caught = err;
    }
    // Assess
    expect(caught).toBeInstanceOf(GateError);
    expect((caught as GateError).code).toBe('REPORT_MALFORMED');
    expect((caught as GateError).message).toMatch(message);
    expect((caught as GateError).message).toContain('The scan report sha256:abc attached to team/app@sha256:def is malformed');
  });

  it.each([[9.8, 'critical'], [9, 'critical'], [8.9, 'high'], [7, 'high'], [6.9, 'medium'], [4, 'medium'], [3.9, 'low'], [0.1, 'low'], [0, 'informational']])(
    'security-severity %s is %s',
    (score, sev) => expect(severityFromScore(score)).toBe(sev),
  );
});
