// GitLab container registry cleanup policies: parsed and validated from the projects API shape.
// https://docs.gitlab.com/user/packages/container_registry/reduce_container_registry_storage/#how-the-cleanup-policy-works
import { PolicyError, type InputIssue } from './errors.ts';
import type { GitlabPolicy } from './types.ts';

const KEYS = new Set(['format', 'enabled', 'cadence', 'keep_n', 'older_than', 'name_regex', 'name_regex_delete', 'name_regex_keep', 'next_run_at']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True when a document looks like a GitLab cleanup policy (bare, or under the API's wrapper keys). */
export function looksLikeGitlab(doc: Record<string, unknown>): boolean {
  if (isObject(doc.container_expiration_policy_attributes) || isObject(doc.container_expiration_policy)) return true;
  return ['keep_n', 'older_than', 'name_regex', 'name_regex_delete', 'name_regex_keep'].some((k) => k in doc);
}

export function compileAnchored(source: string): RegExp {
  // GitLab: "Both keep and remove regex patterns are automatically surrounded with \A and \Z anchors."
  return new RegExp(`^(?:${source})$`);
}

/**
 * Validates a GitLab cleanup policy: `{ keep_n, older_than, name_regex, name_regex_keep, enabled }`, bare or
 * under `container_expiration_policy_attributes` / `container_expiration_policy` as the projects API uses.
 */
export function parseGitlabPolicy(input: unknown, source?: string): GitlabPolicy {
  let doc = input;
  let prefix = '';
  if (isObject(doc) && isObject(doc.container_expiration_policy_attributes)) {
    doc = doc.container_expiration_policy_attributes;
    prefix = 'container_expiration_policy_attributes.';
  } else if (isObject(doc) && isObject(doc.container_expiration_policy)) {
    doc = doc.container_expiration_policy;
    prefix = 'container_expiration_policy.';
  }
  const issues: InputIssue[] = [];
  if (!isObject(doc)) throw new PolicyError('gitlab', [{ path: '', message: 'a GitLab cleanup policy must be an object', value: doc }], source);
  const bad = (key: string, message: string, value?: unknown) => issues.push({ path: `${prefix}${key}`, message, ...(value !== undefined ? { value } : {}) });
  for (const key of Object.keys(doc)) if (!KEYS.has(key)) bad(key, 'unknown cleanup policy property (allowed: enabled, cadence, keep_n, older_than, name_regex, name_regex_keep)');
  const { keep_n: keepN, older_than: olderThan, name_regex_keep: keep } = doc;
  const nameRegex = doc.name_regex ?? doc.name_regex_delete;
  if (doc.enabled !== undefined && typeof doc.enabled !== 'boolean') bad('enabled', 'must be true or false', doc.enabled);
  if (keepN !== undefined && keepN !== null && !(typeof keepN === 'number' && Number.isInteger(keepN) && keepN >= 0)) {
    bad('keep_n', 'must be a whole number of tags (GitLab offers 1, 5, 10, 25, 50, 100)', keepN);
  }
  let olderThanDays: number | undefined;
  if (olderThan !== undefined && olderThan !== null) {
    const m = typeof olderThan === 'string' ? /^(\d+)d$/.exec(olderThan) : null;
    if (!m || Number(m[1]) <= 0) bad('older_than', 'must be a number of days like "7d", "14d", "30d" or "90d"', olderThan);
    else olderThanDays = Number(m[1]);
  }
  if (typeof nameRegex !== 'string' || nameRegex === '') {
    bad('name_regex', 'is required: the tags to remove (GitLab: "This value cannot be blank. For all tags, use .*")', nameRegex);
  }
  for (const [key, value] of [['name_regex', nameRegex], ['name_regex_keep', keep]] as const) {
    if (typeof value !== 'string' || value === '') {
      if (key === 'name_regex_keep' && value !== undefined && value !== null && value !== '') bad(key, 'must be a regular expression string', value);
      continue;
    }
    try {
      compileAnchored(value);
    } catch (err) {
      bad(key, `not a valid regular expression: ${(err as Error).message}`, value);
    }
  }
  if (issues.length > 0) throw new PolicyError('gitlab', issues, source);
  return {
    format: 'gitlab',
    enabled: doc.enabled !== false,
    nameRegex: nameRegex as string,
    ...(typeof keepN === 'number' ? { keepN } : {}),
    ...(olderThanDays !== undefined ? { olderThanDays } : {}),
    ...(typeof keep === 'string' && keep !== '' ? { nameRegexKeep: keep } : {}),
  };
}
