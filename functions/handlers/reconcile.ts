// Lambda entry for the scheduled reconcile (EventBridge Scheduler): compare source and targets, repair drift; thin, middy-wrapped.
import middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { readEnvironment } from '../env.ts';
import { reconcile, type ReconcileReport } from '../replication/reconcile.ts';
import type { ReplicationDeps } from '../replication/replicate.ts';
import { lambdaContext, type LambdaContextLike } from './context.ts';
import { moduleDir, replicationDepsFromEnvironment } from './deps.ts';
import { createPowertools, powertoolsLogger, powertoolsMetrics } from './observability.ts';
import type { DepsFactory } from './replicate.ts';

/** Who scheduled reconciles are attributed to in the audit log. */
export const RECONCILE_ACTOR = 'system:reconcile';

export interface ReconcileHandlerOptions {
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly tracer?: Tracer;
  /** @default `system:reconcile` */
  readonly actor?: string;
  readonly serviceName?: string;
}

/**
 * The scheduler's payload. Every field is optional: `{}` reconciles every rule. A Scheduler target
 * input may name rules (`{"rules":["mirror-releases"]}`); an EventBridge event's `id` becomes the
 * correlation id.
 */
export interface ReconcileInput {
  readonly rules?: readonly string[];
  readonly id?: string;
}

function readInput(event: unknown): ReconcileInput {
  if (event === null || typeof event !== 'object') return {};
  const e = event as { rules?: unknown; id?: unknown };
  const rules = Array.isArray(e.rules) && e.rules.every((r) => typeof r === 'string') ? (e.rules as string[]) : undefined;
  const id = typeof e.id === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(e.id) ? e.id : undefined;
  return { ...(rules ? { rules } : {}), ...(id ? { id } : {}) };
}

/**
 * The reconcile handler around a deps factory (called once per container). The correlation id is the
 * event's id, else the Lambda request id. Returns the report; failed pairs are audited and counted in
 * metrics, not thrown (the next run retries them).
 *
 * @example
 * const run = createReconcileHandler(() => deps);
 * const report = await run({ rules: ['mirror-releases'] });
 */
export function createReconcileHandler(
  depsFactory: DepsFactory,
  options: ReconcileHandlerOptions = {},
): (event?: unknown, context?: Partial<LambdaContextLike> | null) => Promise<ReconcileReport> {
  const defaults = options.logger && options.metrics && options.tracer ? undefined : createPowertools(options.serviceName);
  const logger = options.logger ?? (defaults as NonNullable<typeof defaults>).logger;
  const metrics = options.metrics ?? (defaults as NonNullable<typeof defaults>).metrics;
  const tracer = options.tracer ?? (defaults as NonNullable<typeof defaults>).tracer;
  let pending: Promise<ReplicationDeps> | undefined;
  const getDeps = (): Promise<ReplicationDeps> =>
    (pending ??= Promise.resolve()
      .then(depsFactory)
      .catch((err: unknown) => {
        pending = undefined;
        throw err;
      }));

  const core = async (event: unknown, context: LambdaContextLike): Promise<ReconcileReport> => {
    const input = readInput(event);
    const correlationId = input.id ?? context.awsRequestId;
    logger.setCorrelationId(correlationId);
    const base = await getDeps();
    const deps: ReplicationDeps = { ...base, logger: base.logger ?? powertoolsLogger(logger), metrics: base.metrics ?? powertoolsMetrics(metrics) };
    const report = await reconcile(deps, { correlationId, actor: options.actor ?? RECONCILE_ACTOR, ...(input.rules ? { rules: input.rules } : {}) });
    metrics.addMetric('ReconcileChecked', MetricUnit.Count, report.checked);
    metrics.addMetric('ReconcileRepairedTotal', MetricUnit.Count, report.repaired);
    metrics.addMetric('ReconcileFailedTotal', MetricUnit.Count, report.failed);
    logger.info('Reconcile finished', { checked: report.checked, inSync: report.inSync, repaired: report.repaired, failed: report.failed, durationMs: report.durationMs });
    return report;
  };

  const wrapped = middy(core)
    .use(captureLambdaHandler(tracer))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));

  return (event, context) => wrapped(event ?? {}, lambdaContext(context, 'regman-reconcile')) as Promise<ReconcileReport>;
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/reconcile.ts). */
export const handler = createReconcileHandler(() => replicationDepsFromEnvironment(env, HANDLER_DIR));
