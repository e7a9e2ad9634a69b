// The shared shell of the large-image Task handlers: deps built once, correlation id on every log line, typed errors for Retry/Catch.
import middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { deferStep, previousDeferral } from '../replication/large/deferral.ts';
import { LargeImageError, toLargeImageError } from '../replication/large/errors.ts';
import type { DeferredStep } from '../replication/large/types.ts';
import type { ReplicationDeps } from '../replication/replicate.ts';
import { lambdaContext, type LambdaContextLike } from './context.ts';
import { memoizeRetrying } from './memoize.ts';
import { createPowertools } from './observability.ts';

/** What the steps need of the replication deps (the same factory as the replicate handler). */
export type LargeImageDeps = Pick<ReplicationDeps, 'adapters' | 'audit' | 'copyOptions' | 'now'>;

export type LargeImageDepsFactory = () => Promise<LargeImageDeps> | LargeImageDeps;

export interface LargeImageStepOptions {
  readonly logger?: Logger;
  readonly tracer?: Tracer;
  /** Service name of a default logger/tracer. @default POWERTOOLS_SERVICE_NAME */
  readonly serviceName?: string;
}

/** A Task handler: the state machine's input in, the step's result out. */
export type LargeImageStepHandler<O> = (input: unknown, context?: Partial<LambdaContextLike> | null) => Promise<O>;

/** The step's input as an object with a correlation id, or a fatal STATE_INVALID (retrying cannot fix a bad input). */
export function stepInput<T extends { correlationId: string }>(input: unknown, step: string, required: readonly string[]): T {
  const obj = input as Record<string, unknown> | null;
  const missing = obj === null || typeof obj !== 'object' ? ['(object)'] : ['correlationId', ...required].filter((k) => obj[k] === undefined || obj[k] === null);
  if (missing.length > 0) throw new LargeImageError('STATE_INVALID', `${step}: the input lacks ${missing.join(', ')}`, { retryable: false });
  return obj as T;
}

/**
 * Wraps a step's core in middy with the Powertools logger (correlation id = the event id carried in
 * the state) and tracer. Whatever the core throws leaves as a LargeImageError, named for the ASL's
 * Retry (`RegmanRetryableError`) or Catch (`RegmanFatalError`).
 *
 * @example
 * export const handler = createLargeImageStep('Plan', depsFactory, (input, deps) => planLargeImage(stepInput(input, 'Plan', ['targets']), deps));
 */
export function createLargeImageStep<O>(
  step: string,
  depsFactory: LargeImageDepsFactory,
  core: (input: unknown, deps: LargeImageDeps, logger: Logger) => Promise<O>,
  options: LargeImageStepOptions = {},
): LargeImageStepHandler<O> {
  const defaults = options.logger && options.tracer ? undefined : createPowertools(options.serviceName);
  const logger = options.logger ?? (defaults as NonNullable<typeof defaults>).logger;
  const tracer = options.tracer ?? (defaults as NonNullable<typeof defaults>).tracer;
  const getDeps = memoizeRetrying(depsFactory);
  const run = async (input: unknown, context: LambdaContextLike): Promise<O> => {
    const correlationId = (input as { correlationId?: unknown } | null)?.correlationId;
    logger.setCorrelationId(typeof correlationId === 'string' ? correlationId : context.awsRequestId);
    try {
      return await core(input, await getDeps(), logger);
    } catch (err) {
      const typed = toLargeImageError(err, `${step.toUpperCase()}_FAILED`);
      logger.error(`${step} failed`, { errorCode: typed.code, error: typed.message, retryable: typed.retryable });
      throw typed;
    }
  };
  const wrapped = middy(run).use(captureLambdaHandler(tracer)).use(injectLambdaContext(logger, { resetKeys: true }));
  return (input, context) => wrapped(input, lambdaContext(context, `regman-large-${step.toLowerCase()}`)) as Promise<O>;
}

/**
 * Runs a step's work; a failure that says "wait for the rate budget" becomes the step's deferral answer (the
 * ASL Waits until its `notBefore`, then runs the step again), anything else is thrown as before.
 * `previous` is where the step's result goes in the state: its deferral of the last round, if any.
 *
 * @example
 * return orDefer('Plan', state.plan, deps, logger, () => planLargeImage(state, deps));
 */
export async function orDefer<O>(step: string, previous: unknown, deps: LargeImageDeps, logger: Logger, work: () => Promise<O>): Promise<O | DeferredStep> {
  try {
    return await work();
  } catch (err) {
    const deferred = deferStep(err, previousDeferral(previous), deps.now?.() ?? new Date(), step);
    if (!deferred) throw err;
    logger.warn(`${step} deferred: out of rate budget`, { ...deferred.deferral });
    return deferred;
  }
}
