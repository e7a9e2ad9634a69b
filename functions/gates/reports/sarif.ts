// Reads vulnerability findings out of a SARIF 2.1.0 log as Trivy and Grype write it.
// SARIF: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html. Severity follows GitHub code
// scanning's convention (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning#reportingdescriptor-object):
// a rule's `properties["security-severity"]` score (>= 9.0 critical, >= 7.0 high, >= 4.0 medium,
// > 0 low), which Trivy and Grype both set; else a severity word among the rule's tags (Trivy's
// `["vulnerability", "security", "HIGH"]`); else the result's or rule's `level` (error → high,
// warning → medium, note → low, none → informational).
import { severityFromWord, type Finding } from '../findings.ts';
import type { Severity } from '../types.ts';
import { GateError } from '../errors.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when the document looks like SARIF (a `version` 2.1.0 and a `runs` array). */
export function isSarif(doc: unknown): doc is Json {
  return isObject(doc) && Array.isArray(doc.runs) && typeof doc.version === 'string';
}

/** `security-severity` score → severity, per GitHub's ranges. */
export function severityFromScore(score: number): Severity {
  if (score >= 9) return 'critical';
  if (score >= 7) return 'high';
  if (score >= 4) return 'medium';
  if (score > 0) return 'low';
  return 'informational';
}

function severityFromLevel(level: unknown): Severity | undefined {
  switch (level) {
    case 'error':
      return 'high';
    case 'warning':
      return 'medium';
    case 'note':
      return 'low';
    case 'none':
      return 'informational';
    default:
      return undefined;
  }
}

function ruleSeverity(rule: Json | undefined): Severity | undefined {
  const props = isObject(rule?.properties) ? rule.properties : undefined;
  const raw = props?.['security-severity'];
  const score = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (Number.isFinite(score)) return severityFromScore(score);
  if (Array.isArray(props?.tags)) {
    for (const t of props.tags) {
      const s = typeof t === 'string' ? severityFromWord(t) : undefined;
      if (s !== undefined && s !== 'undefined') return s;
    }
  }
  return undefined;
}

/** The vulnerability id: Trivy's and Grype's rule ids are CVE/GHSA ids, Grype's with a `-<package>` suffix. */
function vulnerabilityId(ruleId: string): string {
  const m = /(CVE-\d{4}-\d{4,}|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}|[A-Z]+-\d{4}-\d+)/i.exec(ruleId);
  return m?.[1] ?? ruleId.replace(/^\[[A-Z]+\]\s*/, '');
}

/**
 * Fixability from the help text both tools write: Trivy's `Fixed Version: 1.2.3` line, Grype's
 * markdown table column `Fix Version`. Unknown when neither is there.
 */
function ruleFixable(rule: Json | undefined): boolean | undefined {
  const help = isObject(rule?.help) ? rule.help : undefined;
  const text = [help?.text, help?.markdown].filter((t): t is string => typeof t === 'string').join('\n');
  const line = /Fixed Version:[ \t]*([^\n]*)/i.exec(text);
  if (line) return line[1]!.trim() !== '';
  const table = /\|([^\n]*Fix(?:ed)? Version[^\n]*)\|\n\|[-| :]+\|\n\|([^\n]*)\|/i.exec(text);
  if (table) {
    const cols = table[1]!.split('|').map((c) => c.trim().toLowerCase());
    const vals = table[2]!.split('|').map((c) => c.trim());
    const i = cols.findIndex((c) => c === 'fix version' || c === 'fixed version');
    if (i >= 0) return (vals[i] ?? '') !== '' && !/^(none|n\/a|unknown)$/i.test(vals[i] ?? '');
  }
  return undefined;
}

/**
 * Every result of every run as a finding. Throws REPORT_MALFORMED, naming the JSON path, when the
 * document is not a SARIF log we can read; `source` names the report in the message.
 */
export function findingsFromSarif(doc: unknown, source: string): Finding[] {
  if (!isSarif(doc)) throw malformed(source, 'it has no "version" and "runs" (not a SARIF log)');
  if (!String(doc.version).startsWith('2.1')) throw malformed(source, `SARIF version ${JSON.stringify(doc.version)} is not 2.1.0`);
  const out: Finding[] = [];
  (doc.runs as unknown[]).forEach((run, r) => {
    if (!isObject(run)) throw malformed(source, `runs[${r}] is not an object`);
    const driver = isObject(run.tool) && isObject(run.tool.driver) ? run.tool.driver : undefined;
    const rules = Array.isArray(driver?.rules) ? (driver.rules as unknown[]).filter(isObject) : [];
    const byId = new Map<string, Json>();
    for (const rule of rules) if (typeof rule.id === 'string') byId.set(rule.id, rule);
    const results = run.results ?? [];
    if (!Array.isArray(results)) throw malformed(source, `runs[${r}].results is not an array`);
    results.forEach((res, i) => {
      if (!isObject(res)) throw malformed(source, `runs[${r}].results[${i}] is not an object`);
      const ruleIndex = typeof res.ruleIndex === 'number' ? res.ruleIndex : undefined;
      const rule = (typeof res.ruleId === 'string' ? byId.get(res.ruleId) : undefined) ?? (ruleIndex !== undefined && isObject(rules[ruleIndex]) ? rules[ruleIndex] : undefined);
      const ruleId = typeof res.ruleId === 'string' ? res.ruleId : typeof rule?.id === 'string' ? rule.id : undefined;
      if (ruleId === undefined) throw malformed(source, `runs[${r}].results[${i}] has no ruleId`);
      const defaultLevel = isObject(rule?.defaultConfiguration) ? rule.defaultConfiguration.level : undefined;
      const severity = ruleSeverity(rule) ?? severityFromLevel(res.level) ?? severityFromLevel(defaultLevel) ?? 'undefined';
      const fixable = ruleFixable(rule);
      out.push({ id: vulnerabilityId(ruleId), severity, ...(fixable !== undefined ? { fixable } : {}) });
    });
  });
  return out;
}

export function malformed(source: string, what: string): GateError {
  return new GateError(
    `The scan report ${source} is malformed: ${what}. Attach a SARIF 2.1.0 report (trivy image --format sarif, grype -o sarif) ` +
      `or Trivy's JSON report (trivy image --format json) with regman attach.`,
    { code: 'REPORT_MALFORMED' },
  );
}
