// Deferral: a target out of rate budget (Docker Hub's pull limit, a 429 asking for longer than a copy waits) is re-queued with the delay it gave, not failed.
import { isOciError } from '../oci/errors.ts';
import { findRateLimitedError } from '../registries/rate-budget.ts';
import type { ImageActionEvent } from './event.ts';

/** The audit action of a deferred target (the outcome set is closed, so a deferral is its own action, like `replicate.fanout`). */
export const DEFERRED_ACTION = 'replicate.deferred';

/** The environment variable naming the replicate-deferred state machine (unset: no deferral on AWS; a target out of budget fails as before). */
export const DEFERRAL_STATE_MACHINE_ENV = 'REGMAN_DEFERRAL_STATE_MACHINE_ARN';

/** Deferrals of one event before its deferred targets count as failed (and go the DLQ way). */
export const MAX_DEFERRALS = 12;

/** The message a deferral queue delivers back to the replicate handler once `notBefore` has come. */
export interface DeferredReplication {
  readonly kind: 'regman.deferred-replication';
  /** The correlation id (the original event id): the async invoker and the logs key on it. */
  readonly id: string;
  readonly correlationId: string;
  readonly sourceRegistry: string;
  readonly actor: string;
  /** The parsed image event, as the first attempt read it. */
  readonly event: ImageActionEvent;
  /** ISO time the budget is expected back. */
  readonly notBefore: string;
  /** How many times this event was deferred so far (1 for the first deferral). */
  readonly deferrals: number;
  /** The doneKeys (`<rule>#<target>`) of the deferred targets. */
  readonly targets: readonly string[];
}

/** Where deferred work waits: an SFN execution's Wait on AWS, a timer of the async invoker locally. */
export interface DeferralQueue {
  /** Delivers `work` to the replicate handler after `delaySeconds`. */
  defer(work: DeferredReplication, delaySeconds: number): Promise<void>;
}

/** Why a copy must wait, read from its error. */
export interface DeferralReason {
  readonly retryAfterSeconds: number;
  /** The rate budget key (`host|account`) when the budget said so. */
  readonly budgetKey?: string;
  readonly registry?: string;
}

/**
 * The wait a failed copy asks for, or undefined when it is an ordinary failure: a RateLimitedError
 * (the budget is spent or Docker Hub said 429), or a TOO_MANY_REQUESTS whose Retry-After (or
 * `ratelimit-reset`) is longer than a copy waits, anywhere in the cause chain.
 */
export function deferralOf(err: unknown): DeferralReason | undefined {
  const limited = findRateLimitedError(err);
  if (limited) return { retryAfterSeconds: limited.retryAfterSeconds, budgetKey: limited.budgetKey, ...(limited.registry !== undefined ? { registry: limited.registry } : {}) };
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (isOciError(e, 'TOO_MANY_REQUESTS') && e.retryAfterSeconds !== undefined) {
      return { retryAfterSeconds: e.retryAfterSeconds, ...(e.registry !== undefined ? { registry: e.registry } : {}) };
    }
  }
  return undefined;
}

/** True for a message a deferral queue delivered (not an EventBridge event). */
export function isDeferredReplication(raw: unknown): raw is DeferredReplication {
  const r = raw as Partial<DeferredReplication> | null;
  return typeof r === 'object' && r !== null && r.kind === 'regman.deferred-replication' && typeof r.correlationId === 'string' && typeof r.sourceRegistry === 'string' &&
    typeof r.event === 'object' && r.event !== null && Array.isArray(r.targets) && typeof r.deferrals === 'number';
}
