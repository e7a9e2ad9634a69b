// Count and age rules over images with no trustworthy time: decide only what holds wherever those images fall in time, block the rest.
import type { Evaluation, EvaluationContext, Verdict } from './evaluation.ts';
import { evaluatePolicy } from './policy.ts';
import type { InventoryImage, RetentionPolicy } from './types.ts';

/** The rule of a decision the policy could not make for want of a trustworthy order. */
export const ORDER_UNKNOWN_RULE = 'order.unknown';

/**
 * Unknown-time images checked one by one (two evaluations of the policy each). Past this many, an
 * unknown-time image is expired by nothing and blocked wherever the two shared placements disagree.
 */
export const MAX_SINGLE_CHECKS = 100;

/** Placed at the epoch, an image is older than anything real; placed at `now`, younger than anything pushed. */
const OLDEST_MS = 0;

export interface OrderAwareEvaluation extends Evaluation {
  /** Roots whose verdict depends on where the unknown-time images fall: kept under ORDER_UNKNOWN_RULE. */
  readonly blocked: ReadonlySet<string>;
}

type Placement = ReadonlyMap<string, number>;

/**
 * Evaluates `policy` with the `unknown` images placed at both ends of time. A verdict stands when it
 * is the same in the placement most protective of the image (it newest, the other unknown ones oldest)
 * and in the one least protective (it oldest, the others newest); otherwise the image is kept and
 * blocked. For an image with a known time the two placements are shared: every unknown image oldest,
 * then every unknown image newest. Count rules (keep_n, imageCountMoreThan, keep.last) and age rules
 * (older_than, sinceImagePushed, olderThanDays) are monotone in an image's time and rank, so the two
 * ends bound every possible order.
 */
export function evaluateOrderAware(
  policy: RetentionPolicy,
  roots: readonly InventoryImage[],
  all: readonly InventoryImage[],
  ctx: EvaluationContext,
  unknown: ReadonlySet<string>,
): OrderAwareEvaluation {
  const at = (placement: Placement): Evaluation => {
    const times = new Map(all.map((i) => [i.digest, placement.get(i.digest) ?? ctx.pushedMs(i)]));
    const move = (i: InventoryImage): InventoryImage => (placement.has(i.digest) ? { ...i, pushedAt: new Date(times.get(i.digest) as number).toISOString() } : i);
    return evaluatePolicy(policy, roots.map(move), all.map(move), { ...ctx, pushedMs: (i) => times.get(i.digest) as number });
  };
  const everyUnknownAt = (ms: number, except?: { digest: string; ms: number }): Placement => {
    const out = new Map<string, number>();
    for (const d of unknown) out.set(d, ms);
    if (except) out.set(except.digest, except.ms);
    return out;
  };
  const oldest = at(everyUnknownAt(OLDEST_MS));
  const newest = at(everyUnknownAt(ctx.nowMs));
  const unknownRoots = roots.filter((r) => unknown.has(r.digest));
  const oneByOne = unknownRoots.length <= MAX_SINGLE_CHECKS;
  const sample = unknownRoots.slice(0, 3).map((i) => (i.tags.length > 0 ? i.tags[0] : i.digest.slice(0, 19))).join(', ');
  const others = `${unknownRoots.length} image(s) with no trustworthy time (${sample}${unknownRoots.length > 3 ? ', …' : ''})`;

  const verdicts = new Map<string, Verdict>();
  const blocked = new Set<string>();
  const block = (image: InventoryImage, wouldExpire: Verdict | undefined, why: string): void => {
    blocked.add(image.digest);
    const rule = wouldExpire?.rule ?? 'the policy';
    verdicts.set(image.digest, { action: 'keep', rule: ORDER_UNKNOWN_RULE, reason: `${why}: ${rule} orders images by time, so it cannot tell whether this one goes; kept rather than guessed` });
  };
  for (const image of roots) {
    let protective: Verdict | undefined;
    let aggressive: Verdict | undefined;
    if (!unknown.has(image.digest)) {
      protective = oldest.verdicts.get(image.digest);
      aggressive = newest.verdicts.get(image.digest);
    } else if (oneByOne) {
      protective = at(everyUnknownAt(OLDEST_MS, { digest: image.digest, ms: ctx.nowMs })).verdicts.get(image.digest);
      aggressive = at(everyUnknownAt(ctx.nowMs, { digest: image.digest, ms: OLDEST_MS })).verdicts.get(image.digest);
    } else {
      // Too many to check one by one: nothing expires an unknown-time image, and a keep needs both shared placements.
      const a = oldest.verdicts.get(image.digest);
      const b = newest.verdicts.get(image.digest);
      if (a?.action === 'keep' && b?.action === 'keep') verdicts.set(image.digest, a);
      else block(image, a?.action === 'expire' ? a : b, `no trustworthy time for this image (and over ${MAX_SINGLE_CHECKS} such images, too many to check one by one)`);
      continue;
    }
    if (!protective || !aggressive) continue;
    if (protective.action === aggressive.action) {
      // The same wherever it falls: an expiry's reason from its most protected place, a keep's from its least.
      verdicts.set(image.digest, protective.action === 'expire' ? protective : aggressive);
    } else {
      const expiring = protective.action === 'expire' ? protective : aggressive;
      block(image, expiring, unknown.has(image.digest)
        ? 'no trustworthy time for this image (the registry records no push time, and it has no created date in its annotations or config)'
        : `its rank depends on ${others}`);
    }
  }
  const warnings = [...new Set([...oldest.warnings, ...newest.warnings])];
  return { verdicts, protections: oldest.protections, warnings, blocked };
}
