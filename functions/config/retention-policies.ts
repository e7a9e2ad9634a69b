// Validates each retention policy's rules with functions/retention-policy's parsePolicy, and reads lifecycle JSON files.
import { PolicyError, parsePolicy, type PolicyFormat, type RetentionPolicy } from '../retention-policy/index.ts';
import { quote } from './errors.ts';
import { asArray, asRecord, type PathSegment } from './path.ts';
import type { RawIssue } from './zod-issues.ts';

/** Which config field holds which policy format. */
const FORMAT_OF_FIELD: Readonly<Record<string, PolicyFormat>> = { rules: 'regman', ecrLifecyclePolicy: 'ecr', gitlab: 'gitlab' };

/**
 * Replaces `ecrLifecyclePolicy: some.json` with the parsed file, reporting unreadable or non-JSON files.
 * Returns a new document; `readFile` resolves paths relative to the config file.
 */
export function resolvePolicyFiles(data: unknown, readFile: (path: string) => string): { data: unknown; issues: RawIssue[] } {
  const issues: RawIssue[] = [];
  const root = asRecord(data);
  if (!root || !Array.isArray(root.retention)) return { data, issues };
  const retention = root.retention.map((policy, i) => {
    const p = asRecord(policy);
    const file = p?.ecrLifecyclePolicy;
    if (!p || typeof file !== 'string' || !/\.json$/i.test(file)) return policy;
    const path: PathSegment[] = ['retention', i, 'ecrLifecyclePolicy'];
    let text: string;
    try {
      text = readFile(file);
    } catch (err) {
      issues.push({ path, value: file, message: `cannot read ${quote(file)}: ${(err as Error).message}`, expected: 'a readable JSON file, relative to the config file' });
      return policy;
    }
    try {
      return { ...p, ecrLifecyclePolicy: JSON.parse(text) as unknown };
    } catch (err) {
      issues.push({ path, value: file, message: `${quote(file)} is not JSON: ${(err as Error).message}`, expected: 'an ECR lifecycle policy JSON document' });
      return policy;
    }
  });
  return { data: { ...root, retention }, issues };
}

/**
 * Runs parsePolicy on every retention policy whose rule document is a mapping. Returns the normalized
 * policies by index, and the issues under `retention[i].<field>.`.
 */
export function validateRetentionRules(data: unknown): { policies: Map<number, RetentionPolicy>; issues: RawIssue[] } {
  const policies = new Map<number, RetentionPolicy>();
  const issues: RawIssue[] = [];
  asArray(asRecord(data)?.retention).forEach((policy, i) => {
    const p = asRecord(policy);
    if (!p) return;
    const fields = Object.keys(FORMAT_OF_FIELD).filter((f) => p[f] !== undefined);
    const field = fields[0];
    // Zero or several sources: the schema reports it; a non-mapping: the schema reports its shape.
    if (fields.length !== 1 || field === undefined || !asRecord(p[field])) return;
    const base: PathSegment[] = ['retention', i, field];
    try {
      policies.set(i, parsePolicy(p[field], { format: FORMAT_OF_FIELD[field], source: `retention[${i}].${field}` }));
    } catch (err) {
      if (!(err instanceof PolicyError)) {
        issues.push({ path: base, value: undefined, message: `the retention policy could not be checked: ${(err as Error).message}` });
        return;
      }
      for (const issue of err.issues) {
        // The retention module's messages say what is expected; the bad value is appended as it does itself.
        const got = issue.value === undefined ? '' : ` (got ${quote(issue.value)})`;
        issues.push({ path: [...base, ...parsePath(issue.path)], value: issue.value, message: `${issue.message}${got}` });
      }
    }
  });
  return { policies, issues };
}

/** `rules[1].selection.countNumber` → `['rules', 1, 'selection', 'countNumber']`. */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|([^.[\]]+)/g)) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[2] !== undefined) out.push(JSON.parse(m[2]) as string);
    else if (m[3] !== undefined) out.push(m[3]);
  }
  return out;
}
