// One entry for every accepted policy format: detects the format (or takes it explicitly) and validates.
import { PolicyError } from './errors.ts';
import { parseEcrPolicy } from './parse-ecr.ts';
import { looksLikeGitlab, parseGitlabPolicy } from './parse-gitlab.ts';
import { parseNativePolicy } from './parse-native.ts';
import type { PolicyFormat, RetentionPolicy } from './types.ts';

export interface ParsePolicyOptions {
  /** Skip detection and read the document as this format. */
  readonly format?: PolicyFormat;
  /** Where the document came from (a file name, a config path), for error messages. */
  readonly source?: string;
}

const FORMATS: readonly PolicyFormat[] = ['regman', 'ecr', 'gitlab'];

/** Tells which format a parsed document is in, or explains why it cannot tell. */
export function detectPolicyFormat(doc: unknown, source?: string): PolicyFormat {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new PolicyError('retention', [{ path: '', message: 'a policy must be an object', value: doc }], source);
  }
  const d = doc as Record<string, unknown>;
  if (d.format !== undefined) {
    if (typeof d.format === 'string' && (FORMATS as readonly string[]).includes(d.format)) return d.format as PolicyFormat;
    throw new PolicyError('retention', [{ path: 'format', message: `must be one of ${FORMATS.join(', ')}`, value: d.format }], source);
  }
  if (Array.isArray(d.rules) || typeof d.lifecyclePolicyText === 'string') return 'ecr';
  if (looksLikeGitlab(d)) return 'gitlab';
  if ('delete' in d || 'keep' in d || 'repositories' in d) return 'regman';
  throw new PolicyError(
    'retention',
    [{ path: '', message: 'cannot tell the policy format: expected regman rules (delete/keep), an ECR lifecycle policy (rules) or a GitLab cleanup policy (keep_n, older_than, name_regex); or set format' }],
    source,
  );
}

/**
 * Validates a policy document (parsed JSON or YAML, e.g. a per-environment entry of the config file) in any
 * accepted format and returns the normalized policy `planRetention` takes.
 *
 * @example
 * const policy = parsePolicy({ delete: { olderThanDays: 90 }, keep: { tags: ['prod-*'] } });
 */
export function parsePolicy(doc: unknown, options: ParsePolicyOptions = {}): RetentionPolicy {
  const format = options.format ?? detectPolicyFormat(doc, options.source);
  switch (format) {
    case 'regman':
      return parseNativePolicy(doc, options.source);
    case 'ecr':
      return parseEcrPolicy(doc, options.source);
    case 'gitlab':
      return parseGitlabPolicy(doc, options.source);
  }
}
