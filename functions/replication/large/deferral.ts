// Deferral inside the replicate-large state machine: a step out of rate budget answers `{ deferral }` instead of
// failing, and the ASL Waits for the delay the registry gave, then runs the step again (docs/LARGE_IMAGES.md).
//
// Why not Retry: a Retry's backoff is capped (MaxDelaySeconds) and counted (MaxAttempts); Docker Hub's window is six
// hours, so retries burn out long before the budget is back and the execution fails. A Wait waits what was asked.
import { deferralOf, MAX_DEFERRALS } from '../deferral.ts';
import { errorMessageOf } from '../observability.ts';
import { LargeImageError } from './errors.ts';
import type { BlobOutcome, DeferredStep, StepDeferral } from './types.ts';

/** The deferral a step answered in its previous round, read from where its result goes in the state. */
export function previousDeferral(slot: unknown): StepDeferral | undefined {
  const d = (slot as { deferral?: unknown } | null | undefined)?.deferral as StepDeferral | undefined;
  return d !== undefined && typeof d === 'object' && typeof d.notBefore === 'string' && typeof d.deferrals === 'number' ? d : undefined;
}

/** True for a step's deferral answer. */
export function isDeferredStep(value: unknown): value is DeferredStep {
  return previousDeferral(value) !== undefined;
}

/**
 * The deferral answer for `err` when it says "wait" (a RateLimitedError, or a 429 whose Retry-After is longer
 * than a copy waits, anywhere in its causes), else undefined (the step throws as before).
 *
 * @throws LargeImageError RATE_LIMITED (fatal) after MAX_DEFERRALS rounds of the same step: the budget does not
 *   come back, so this is a failure (RecordFailure audits it) rather than a wait without end.
 * @example
 * const answer = deferStep(err, previousDeferral(input.plan), new Date(), 'Plan'); // { deferral: { notBefore, … } }
 */
export function deferStep(err: unknown, previous: StepDeferral | undefined, now: Date, step: string, outcomes?: readonly (BlobOutcome | null)[]): DeferredStep | undefined {
  const wait = deferralOf(err);
  if (wait === undefined) return undefined;
  const deferrals = (previous?.deferrals ?? 0) + 1;
  const reason = errorMessageOf(err).replace(/^\[[A-Z0-9_]+\]\s*/, '');
  if (deferrals > MAX_DEFERRALS) {
    throw new LargeImageError('RATE_LIMITED', `${step}: still out of rate budget after ${MAX_DEFERRALS} deferrals: ${reason}`, { retryable: false, cause: err });
  }
  const retryAfterSeconds = Math.max(1, Math.ceil(wait.retryAfterSeconds));
  return {
    deferral: {
      notBefore: new Date(now.getTime() + retryAfterSeconds * 1000).toISOString(),
      retryAfterSeconds,
      deferrals,
      reason: `${step}: ${reason}`,
      ...(wait.registry !== undefined ? { registry: wait.registry } : {}),
      ...(wait.budgetKey !== undefined ? { budgetKey: wait.budgetKey } : {}),
      ...(outcomes !== undefined ? { outcomes } : {}),
    },
  };
}
