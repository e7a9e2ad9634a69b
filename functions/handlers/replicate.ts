// Lambda entry for `ECR Image Action` events: validate → (idempotently) replicate → map the result; thin, middy-wrapped.
import middy from '@middy/core';
import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { RegmanConfig } from '../config/types.ts';
import { ENV, readEnvironment } from '../env.ts';
import { ReplicationEventError, ReplicationFailedError, isReplicationError } from '../replication/errors.ts';
import { eventIdOf, parseImageActionEvent, type ImageActionEvent } from '../replication/event.ts';
import { isDeferredReplication } from '../replication/deferral.ts';
import { errorCodeOf, errorMessageOf } from '../replication/observability.ts';
import { replicateImage, type ReplicationDeps, type ReplicationOutcome } from '../replication/replicate.ts';
import { findSourceRegistry } from '../replication/source.ts';
import { lambdaContext, type LambdaContextLike } from './context.ts';
import { memoizeRetrying } from './memoize.ts';
import { moduleDir, dynamoOptions, replicationDepsFromEnvironment } from './deps.ts';
import { createIdempotencyStore, imageEventIdempotencyConfig } from './idempotency.ts';
import { createPowertools, powertoolsLogger, powertoolsMetrics } from './observability.ts';

/** Who replication on push is attributed to in the audit log. */
export const PUSH_EVENT_ACTOR = 'event:aws.ecr';

/** Per-invocation metrics of the handler (per-target figures come from the domain, with a `target` dimension). */
export const HandlerMetric = {
  received: 'ImageEventsReceived',
  rejected: 'ImageEventsRejected',
  skipped: 'ImageEventsSkipped',
} as const;

/** An event that was not processed: logged and audited as `event.rejected`, never retried. */
export interface RejectedResult {
  readonly status: 'rejected';
  readonly correlationId: string;
  readonly errorCode: string;
  readonly reason: string;
}

export type ReplicateHandlerResult = ReplicationOutcome | RejectedResult;

export interface ReplicateHandlerOptions {
  /**
   * Powertools idempotency: duplicate deliveries (same event id and digest) return the first result
   * without copying again. A store, or a function building one on first use (so the table name can
   * come from the environment at cold start). `false` or omitted: none (HEAD checks still make a
   * duplicate cheap).
   */
  readonly idempotency?: { readonly persistenceStore: BasePersistenceLayer | (() => BasePersistenceLayer); readonly expiresAfterSeconds?: number } | false;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly tracer?: Tracer;
  /**
   * Names the configured source registry of an event. @default the ECR registry of the event's
   * account and region (findSourceRegistry). The local stack maps its OCI source here.
   */
  readonly sourceRegistry?: (event: ImageActionEvent, config: RegmanConfig) => string | undefined;
  /** @default `event:aws.ecr` */
  readonly actor?: string;
  /** Service name of a default logger/metrics/tracer. @default POWERTOOLS_SERVICE_NAME */
  readonly serviceName?: string;
}

export type DepsFactory = () => Promise<ReplicationDeps> | ReplicationDeps;

/**
 * The replicate handler around a deps factory (called lazily, once per container). For each event:
 * 1. sets the correlation id (the event id, else the Lambda request id) on every log line;
 * 2. validates it: an event that does not parse, or whose source registry is not configured, is
 *    logged, audited as `event.rejected` (outcome `rejected`) and answered `{ status: 'rejected' }`:
 *    retrying could never help;
 * 3. replicates (replicateImage), idempotently on event id + digest when `idempotency` is set;
 *    a failed target throws ReplicationError after auditing, so the platform retries / DLQs.
 *
 * @example
 * // the local stack
 * const replicate = createReplicateHandler(() => deps, { idempotency: { persistenceStore: store }, sourceRegistry: () => 'source' });
 * await replicate(imageActionEvent({ id, repository, digest, tag }));
 */
export function createReplicateHandler(
  depsFactory: DepsFactory,
  options: ReplicateHandlerOptions = {},
): (event: unknown, context?: Partial<LambdaContextLike> | null) => Promise<ReplicateHandlerResult> {
  const defaults = options.logger && options.metrics && options.tracer ? undefined : createPowertools(options.serviceName);
  const logger = options.logger ?? (defaults as NonNullable<typeof defaults>).logger;
  const metrics = options.metrics ?? (defaults as NonNullable<typeof defaults>).metrics;
  const tracer = options.tracer ?? (defaults as NonNullable<typeof defaults>).tracer;
  const actor = options.actor ?? PUSH_EVENT_ACTOR;
  const getDeps = memoizeRetrying(depsFactory);
  const domainLogger = powertoolsLogger(logger);
  const domainMetrics = powertoolsMetrics(metrics);

  // The fan-out decision weighs the copy against this invocation's remaining time.
  const replicate = async (_raw: unknown, context: LambdaContextLike, event: ImageActionEvent, sourceRegistry: string, deps: ReplicationDeps): Promise<ReplicationOutcome> =>
    replicateImage(
      { event, sourceRegistry, correlationId: event.id, actor },
      deps.fanout && !deps.fanout.remainingTimeMs ? { ...deps, fanout: { ...deps.fanout, remainingTimeMs: () => context.getRemainingTimeInMillis() } } : deps,
    );

  // Built on first use: the store may come from the environment (cold start).
  let idempotent: typeof replicate | undefined;
  const idempotentReplicate = (): typeof replicate => {
    if (!options.idempotency) return replicate;
    if (!idempotent) {
      const { persistenceStore, expiresAfterSeconds } = options.idempotency;
      idempotent = makeIdempotent(replicate, {
        persistenceStore: typeof persistenceStore === 'function' ? persistenceStore() : persistenceStore,
        config: imageEventIdempotencyConfig(expiresAfterSeconds),
      });
    }
    return idempotent;
  };

  const reject = async (deps: ReplicationDeps, correlationId: string, errorCode: string, reason: string, details: Record<string, string>): Promise<RejectedResult> => {
    logger.error('Event rejected', { errorCode, reason, ...details });
    metrics.addMetric(HandlerMetric.rejected, MetricUnit.Count, 1);
    await deps.audit.append({ actor, action: 'event.rejected', outcome: 'rejected', correlationId, errorCode, errorMessage: reason, details });
    return { status: 'rejected', correlationId, errorCode, reason };
  };

  const core = async (raw: unknown, context: LambdaContextLike): Promise<ReplicateHandlerResult> => {
    const correlationId = isDeferredReplication(raw) ? raw.correlationId : (eventIdOf(raw) ?? context.awsRequestId);
    logger.setCorrelationId(correlationId);
    const base = await getDeps();
    const deps: ReplicationDeps = { ...base, logger: base.logger ?? domainLogger, metrics: base.metrics ?? domainMetrics };
    if (isDeferredReplication(raw)) {
      // A deferral came back: its targets run again. Not through idempotency (the event's record says
      // "done"); the done# records of the event keep the other targets from running twice.
      logger.info('Deferred replication is due', { repository: raw.event.repository, digest: raw.event.digest, targets: raw.targets, deferrals: raw.deferrals });
      return replicateImage(
        { event: raw.event, sourceRegistry: raw.sourceRegistry, correlationId, actor: raw.actor, deferred: { deferrals: raw.deferrals, targets: raw.targets } },
        deps,
      );
    }
    let event: ImageActionEvent;
    try {
      event = parseImageActionEvent(raw);
    } catch (err) {
      if (!(err instanceof ReplicationEventError)) throw err;
      return reject(deps, correlationId, err.code, err.message, { field: err.field, requestId: context.awsRequestId });
    }
    const sourceRegistry = options.sourceRegistry?.(event, deps.config) ?? findSourceRegistry(deps.config, event.account, event.region);
    if (sourceRegistry === undefined || !deps.adapters.has(sourceRegistry)) {
      const reason = `no configured source registry for account ${event.account} in ${event.region}${sourceRegistry ? ` ("${sourceRegistry}" has no adapter)` : ''}: add an ecr registry with that accountId and region`;
      return reject(deps, correlationId, 'SOURCE_UNKNOWN', reason, { account: event.account, region: event.region, repository: event.repository });
    }
    metrics.addMetric(HandlerMetric.received, MetricUnit.Count, 1);
    logger.info('Image event received', { repository: event.repository, digest: event.digest, tag: event.tag ?? null, actionType: event.actionType, result: event.result, sourceRegistry });
    try {
      const outcome = await idempotentReplicate()(raw, context, event, sourceRegistry, deps);
      if (outcome.status === 'skipped') metrics.addMetric(HandlerMetric.skipped, MetricUnit.Count, 1);
      return outcome;
    } catch (err) {
      logger.error('Replication failed; the event will be retried', {
        errorCode: errorCodeOf(err),
        error: errorMessageOf(err),
        retryable: isReplicationError(err) ? err.retryable : true,
        ...(err instanceof ReplicationFailedError ? { failures: err.failures } : {}),
      });
      throw err;
    }
  };

  const wrapped = middy(core)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));

  return (event, context) => wrapped(event, lambdaContext(context, 'regman-replicate')) as Promise<ReplicateHandlerResult>;
}

// ---------------------------------------------------------------------------------------------
// The deployed Lambda: the environment is read once at load, the deps on the first invocation.

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/replicate.ts). */
export const handler = createReplicateHandler(() => replicationDepsFromEnvironment(env, HANDLER_DIR), {
  idempotency: {
    persistenceStore: () => createIdempotencyStore({ tableName: env.required(ENV.idempotencyTable, 'the idempotency table'), ...dynamoOptions(env) }),
  },
});
