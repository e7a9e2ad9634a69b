// Runs a normalized policy's evaluator; parsing lives below retention and config in ../retention-policy/.
import type { Evaluation, EvaluationContext } from './evaluation.ts';
import { evaluateEcr } from './policy-ecr.ts';
import { evaluateGitlab } from './policy-gitlab.ts';
import { evaluateNative } from './policy-native.ts';
import type { InventoryImage, RetentionPolicy } from './types.ts';

export { parsePolicy, detectPolicyFormat, type ParsePolicyOptions } from '../retention-policy/parse.ts';

/** Runs the format's evaluator over the images the policy judges. */
export function evaluatePolicy(
  policy: RetentionPolicy,
  roots: readonly InventoryImage[],
  all: readonly InventoryImage[],
  ctx: EvaluationContext,
): Evaluation {
  switch (policy.format) {
    case 'regman':
      return evaluateNative(policy, roots, all, ctx);
    case 'ecr':
      return evaluateEcr(policy, roots, ctx);
    case 'gitlab':
      return evaluateGitlab(policy, roots, ctx);
  }
}
