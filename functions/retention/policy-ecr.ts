// Amazon ECR lifecycle policies: evaluation with AWS's documented semantics (validation: ../retention-policy/parse-ecr.ts).
// Semantics: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html (evaluation rules),
// properties: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
import { DAY_MS, ago, ms, youngestFirst, type Evaluation, type EvaluationContext, type Verdict } from './evaluation.ts';
import type { EcrPolicy, EcrRule, InventoryImage } from './types.ts';

/** Compiles an ECR tag pattern (`*` matches any run of characters, anchored at both ends). */
function patternMatcher(pattern: string): (tag: string) => boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (tag) => re.test(tag);
}

interface CompiledRule {
  readonly rule: EcrRule;
  readonly id: string;
  readonly label: string;
  readonly matches: (image: InventoryImage) => boolean;
}

const compiledRules = new WeakMap<EcrPolicy, CompiledRule[]>();

function compile(policy: EcrPolicy): CompiledRule[] {
  const cached = compiledRules.get(policy);
  if (cached) return cached;
  const out = policy.rules.map((rule): CompiledRule => {
    const s = rule.selection;
    // "When using the tagPrefixList, an image is successfully matched if all of the tags in the
    // tagPrefixList value are matched against any of the image's tags." Same for tagPatternList.
    const filters = s.tagPrefixList
      ? s.tagPrefixList.map((p) => (tag: string) => tag.startsWith(p))
      : (s.tagPatternList ?? []).map(patternMatcher);
    const tagMatch = (image: InventoryImage) => filters.every((f) => image.tags.some(f));
    // "The rule will only select images of this storage class": an inventory holds standard images only.
    const matches =
      s.storageClass === 'archive'
        ? () => false
        : s.tagStatus === 'any'
        ? () => true
        : s.tagStatus === 'untagged'
          ? (image: InventoryImage) => image.tags.length === 0
          : (image: InventoryImage) => image.tags.length > 0 && tagMatch(image);
    const label = `rule ${rule.rulePriority}${rule.description ? ` "${rule.description}"` : ''}`;
    return { rule, id: `ecr:rule-${rule.rulePriority}`, label, matches };
  });
  compiledRules.set(policy, out);
  return out;
}

/** Which of the selected images the rule marks, with the reason for each. */
function mark(rule: EcrRule, selected: readonly InventoryImage[], ctx: EvaluationContext): Map<string, string> {
  const s = rule.selection;
  const marked = new Map<string, string>();
  if (s.countType === 'imageCountMoreThan') {
    // "images are sorted from youngest to oldest based on pushed_at_time and then all images greater
    // than the specified count are expired."
    youngestFirst(selected, ctx.pushedMs).forEach((image, i) => {
      if (i >= s.countNumber) marked.set(image.digest, `number ${i + 1} by push time among ${selected.length} matching images, more than ${s.countNumber}`);
    });
  } else if (s.countType === 'sinceImagePushed') {
    const cutoff = ctx.nowMs - s.countNumber * DAY_MS;
    for (const image of selected) {
      if (ctx.pushedMs(image) < cutoff) marked.set(image.digest, `pushed ${ago(image.pushedAt, ctx.nowMs)}, more than ${s.countNumber} days`);
    }
  } else if (s.countType === 'sinceImagePulled') {
    // "If an image was never pulled, the image's pushed_at_time is used instead."
    const cutoff = ctx.nowMs - s.countNumber * DAY_MS;
    for (const image of selected) {
      const last = image.lastPulledAt ?? image.pushedAt;
      if (ms(last) < cutoff) {
        marked.set(image.digest, image.lastPulledAt ? `last pulled ${ago(last, ctx.nowMs)}, more than ${s.countNumber} days` : `never pulled, pushed ${ago(last, ctx.nowMs)}, more than ${s.countNumber} days`);
      }
    }
  }
  // sinceImageTransitioned selects archived images; an inventory has no storage class, so none.
  return marked;
}

/**
 * Applies the rules in rulePriority order. Each rule identifies every image its selection matches and marks
 * some of them; a marked image expires unless a higher-priority rule already identified it ("An image that
 * matches the tagging requirements of a rule cannot be expired by a rule with a lower priority"), so an image
 * is expired by at most one rule.
 */
export function evaluateEcr(policy: EcrPolicy, roots: readonly InventoryImage[], ctx: EvaluationContext): Evaluation {
  const verdicts = new Map<string, Verdict>();
  const warnings: string[] = [];
  for (const c of compile(policy)) {
    const selected = roots.filter(c.matches);
    const marked = mark(c.rule, selected, ctx);
    const s = c.rule.selection;
    if (s.countType === 'sinceImageTransitioned') {
      warnings.push(`${c.label} expires images archived more than ${s.countNumber} days ago; the inventory records no archive storage class, so it selects nothing here`);
    }
    if (c.rule.action.type === 'transition' && marked.size > 0) {
      warnings.push(`${c.label} would transition ${marked.size} image(s) to ECR archive storage; regman does not archive, so the plan keeps them`);
    }
    for (const image of selected) {
      if (verdicts.has(image.digest)) continue; // identified by a higher-priority rule: that rule decides.
      const why = marked.get(image.digest);
      if (why === undefined) {
        verdicts.set(image.digest, { action: 'keep', rule: c.id, reason: `retained by ${c.label}: selected but not marked (${describeCount(c.rule)})` });
      } else if (c.rule.action.type === 'transition') {
        verdicts.set(image.digest, { action: 'keep', rule: c.id, reason: `${c.label} would transition it to archive storage (${why}); regman does not archive` });
      } else {
        verdicts.set(image.digest, { action: 'expire', rule: c.id, reason: `${c.label}: ${why}` });
      }
    }
  }
  for (const image of roots) {
    if (!verdicts.has(image.digest)) verdicts.set(image.digest, { action: 'keep', rule: 'no-match', reason: 'no lifecycle rule selects it' });
  }
  return { verdicts, protections: new Map(), warnings };
}

function describeCount(rule: EcrRule): string {
  const s = rule.selection;
  switch (s.countType) {
    case 'imageCountMoreThan':
      return `among the newest ${s.countNumber}`;
    case 'sinceImagePushed':
      return `pushed within ${s.countNumber} days`;
    case 'sinceImagePulled':
      return `pulled within ${s.countNumber} days`;
    case 'sinceImageTransitioned':
      return 'not archived';
  }
}
