// Reads vulnerability findings out of Trivy's JSON report (`trivy image --format json`, SchemaVersion 2).
// Shape: { SchemaVersion, ArtifactName, Results: [{ Target, Class, Type, Vulnerabilities: [{ VulnerabilityID,
// PkgName, InstalledVersion, FixedVersion?, Status?, Severity }] }] }; https://trivy.dev/latest/docs/configuration/reporting/#json
import { severityFromWord, type Finding } from '../findings.ts';
import { malformed } from './sarif.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when the document looks like a Trivy JSON report. */
export function isTrivyJson(doc: unknown): doc is Json {
  return isObject(doc) && 'SchemaVersion' in doc && ('Results' in doc || 'ArtifactName' in doc);
}

/**
 * Every vulnerability of every result. Fixable when `FixedVersion` is set or `Status` is `fixed`;
 * Trivy leaves both out when no fix exists.
 */
export function findingsFromTrivyJson(doc: unknown, source: string): Finding[] {
  if (!isTrivyJson(doc)) throw malformed(source, 'it has no "SchemaVersion" and "Results" (not a Trivy JSON report)');
  const results = doc.Results ?? [];
  if (!Array.isArray(results)) throw malformed(source, '"Results" is not an array');
  const out: Finding[] = [];
  results.forEach((res, r) => {
    if (!isObject(res)) throw malformed(source, `Results[${r}] is not an object`);
    const vulns = res.Vulnerabilities ?? [];
    if (!Array.isArray(vulns)) throw malformed(source, `Results[${r}].Vulnerabilities is not an array`);
    vulns.forEach((v, i) => {
      if (!isObject(v) || typeof v.VulnerabilityID !== 'string') {
        throw malformed(source, `Results[${r}].Vulnerabilities[${i}] has no VulnerabilityID`);
      }
      const fixed = typeof v.FixedVersion === 'string' && v.FixedVersion.trim() !== '';
      out.push({
        id: v.VulnerabilityID,
        severity: severityFromWord(typeof v.Severity === 'string' ? v.Severity : undefined) ?? 'undefined',
        fixable: fixed || v.Status === 'fixed',
        ...(typeof v.PkgName === 'string' ? { package: v.PkgName } : {}),
      });
    });
  });
  return out;
}
