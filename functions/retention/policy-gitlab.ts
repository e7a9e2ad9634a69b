// GitLab container registry cleanup policies: parsed from the API shape, evaluated per tag in GitLab's
// documented order, then turned into a per-digest verdict (a digest expires only when all its tags go).
// https://docs.gitlab.com/user/packages/container_registry/reduce_container_registry_storage/#how-the-cleanup-policy-works
import { compileAnchored } from '../retention-policy/parse-gitlab.ts';
import { DAY_MS, ago, type Evaluation, type EvaluationContext, type Verdict } from './evaluation.ts';
import type { GitlabPolicy, InventoryImage } from './types.ts';

interface TagEntry {
  readonly tag: string;
  readonly image: InventoryImage;
  readonly created: number;
}

/** One tag's fate under GitLab's order of evaluation. */
interface TagFate {
  readonly deleted: boolean;
  readonly reason: string;
}

const compiledRegex = new WeakMap<GitlabPolicy, { del: RegExp; keep?: RegExp }>();

/**
 * GitLab's documented order: collect the tags; exclude `latest`; keep names not matching name_regex; keep
 * names matching name_regex_keep; order the rest by created date; keep the newest keep_n; keep those newer
 * than older_than; delete the rest. The tag's created date is its image's pushedAt.
 */
export function evaluateGitlab(policy: GitlabPolicy, roots: readonly InventoryImage[], ctx: EvaluationContext): Evaluation {
  const verdicts = new Map<string, Verdict>();
  const warnings: string[] = [];
  if (!policy.enabled) {
    warnings.push('the GitLab cleanup policy has enabled: false, so GitLab would delete nothing; set enabled: true to plan it');
    for (const image of roots) verdicts.set(image.digest, { action: 'keep', rule: 'gitlab:disabled', reason: 'the cleanup policy is disabled' });
    return { verdicts, protections: new Map(), warnings };
  }
  let re = compiledRegex.get(policy);
  if (!re) {
    re = { del: compileAnchored(policy.nameRegex), ...(policy.nameRegexKeep ? { keep: compileAnchored(policy.nameRegexKeep) } : {}) };
    compiledRegex.set(policy, re);
  }
  const fates = new Map<string, TagFate>();
  const candidates: TagEntry[] = [];
  for (const image of roots) {
    for (const tag of image.tags) {
      if (tag === 'latest') fates.set(tag, { deleted: false, reason: 'latest is always kept' });
      else if (!re.del.test(tag)) fates.set(tag, { deleted: false, reason: `does not match name_regex ${policy.nameRegex}` });
      else if (re.keep?.test(tag)) fates.set(tag, { deleted: false, reason: `matches name_regex_keep ${policy.nameRegexKeep}` });
      else candidates.push({ tag, image, created: ctx.pushedMs(image) });
    }
  }
  // Newest first; tags of one digest share a created date, so the tag name breaks ties deterministically.
  candidates.sort((a, b) => b.created - a.created || (a.tag < b.tag ? -1 : 1));
  const cutoff = policy.olderThanDays === undefined ? undefined : ctx.nowMs - policy.olderThanDays * DAY_MS;
  candidates.forEach((entry, i) => {
    if (policy.keepN !== undefined && i < policy.keepN) {
      fates.set(entry.tag, { deleted: false, reason: `one of the ${policy.keepN} most recent tags (keep_n)` });
    } else if (cutoff !== undefined && entry.created > cutoff) {
      fates.set(entry.tag, { deleted: false, reason: `created ${ago(entry.image.pushedAt, ctx.nowMs)}, more recent than older_than ${policy.olderThanDays}d` });
    } else {
      const age = policy.olderThanDays === undefined ? '' : `, older than ${policy.olderThanDays}d`;
      fates.set(entry.tag, { deleted: true, reason: `matches name_regex${age}` });
    }
  });
  for (const image of roots) {
    if (image.tags.length === 0) {
      verdicts.set(image.digest, { action: 'keep', rule: 'gitlab:untagged', reason: 'untagged: GitLab cleanup policies delete tags only' });
      continue;
    }
    const kept = image.tags.filter((t) => !(fates.get(t) as TagFate).deleted);
    if (kept.length === 0) {
      const reasons = image.tags.map((t) => `tag ${t} ${(fates.get(t) as TagFate).reason}`);
      verdicts.set(image.digest, { action: 'expire', rule: 'gitlab:cleanup', reason: `every tag is deleted: ${reasons.join('; ')}` });
    } else {
      const reasons = kept.map((t) => `tag ${t} is kept: ${(fates.get(t) as TagFate).reason}`);
      const deleted = image.tags.filter((t) => (fates.get(t) as TagFate).deleted);
      const note = deleted.length > 0 ? ` (GitLab would delete tag${deleted.length === 1 ? '' : 's'} ${deleted.join(', ')}; the digest stays)` : '';
      verdicts.set(image.digest, { action: 'keep', rule: 'gitlab:keep', reason: reasons.join('; ') + note });
    }
  }
  return { verdicts, protections: new Map(), warnings };
}
