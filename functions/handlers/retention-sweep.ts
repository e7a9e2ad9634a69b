// Lambda entry of the retention-sweep Map item: sweeps one repository with its policy and returns the report's summary.
import middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { AuditLog } from '../audit/audit-log.ts';
import { openDynamoAuditLog } from '../audit/index.ts';
import type { RegmanConfig } from '../config/types.ts';
import { createDynamoClients } from '../dynamo/client.ts';
import { ENV, readEnvironment, type Environment } from '../env.ts';
import { promotionLockedDigests } from '../promotion/retention-locks.ts';
import { PROMOTION_TABLES_ENV, dynamoPromotionHistory, type PromotionStore } from '../promotion/store.ts';
import type { RegistryAdapter } from '../registries/adapter.ts';
import { createAdapters } from '../registries/factory.ts';
import { SecretsManagerResolver } from '../registries/secrets.ts';
import { DynamoPullStatsStore, PULL_STATS_ENV, type PullStatsStore } from '../retention/pull-stats.ts';
import { NoRetentionPolicyError, runRetentionSweep } from '../retention/sweep-run.ts';
import { summarizeSweep, type SweepMode, type SweepSummary } from '../retention/sweep.ts';
import type { PushTimeSource } from '../retention/sweep-inventory.ts';
import { governingPolicy } from '../retention/sweep-targets.ts';
import { loadBundledConfig } from './config.ts';
import { lambdaContext, type LambdaContextLike } from './context.ts';
import { memoizeRetrying } from './memoize.ts';
import { DEFAULT_CONFIG_FILE, dynamoOptions, moduleDir, sharedPullBudgetFromEnvironment } from './deps.ts';
import { createPowertools, powertoolsMetrics } from './observability.ts';
import type { MetricsLike } from '../replication/observability.ts';

/** The sweep's metrics, per registry (the dashboard's "retention bytes freed"). */
export const RetentionMetric = { bytesFreed: 'RetentionBytesFreed', deleted: 'RetentionDigestsDeleted' } as const;

/** Who scheduled sweeps are attributed to in the audit log. */
export const RETENTION_ACTOR = 'system:retention';

/** Error names the ASL's Retry (`RegmanRetryableError`) and Catch (`States.ALL`) see. */
export const RetentionStepErrorName = { retryable: 'RegmanRetryableError', fatal: 'RegmanFatalError' } as const;

/** A step failure, named for the state machine: retryable ones are retried, fatal ones caught per item. */
export class RetentionStepError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = retryable ? RetentionStepErrorName.retryable : RetentionStepErrorName.fatal;
  }
}

/** What the retention handlers need. */
export interface RetentionDeps {
  readonly config: Pick<RegmanConfig, 'registries' | 'environments' | 'retention'>;
  readonly adapters: ReadonlyMap<string, RegistryAdapter>;
  readonly audit: Pick<AuditLog, 'append'>;
  readonly pullStats?: PullStatsStore;
  /** Push times the registry does not record (the local stack's push log). */
  readonly pushTimes?: PushTimeSource;
  /** The promotion history: what an environment serves now and its rollback target are never swept. */
  readonly promotionHistory?: Pick<PromotionStore, 'allHistory'>;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

export type RetentionDepsFactory = () => Promise<RetentionDeps> | RetentionDeps;

export interface RetentionHandlerOptions {
  readonly logger?: Logger;
  readonly tracer?: Tracer;
  /** Where the sweep's figures go (RetentionBytesFreed, RetentionDigestsDeleted). @default Powertools Metrics */
  readonly metrics?: MetricsLike;
  readonly serviceName?: string;
}

/** One Map item: a repository, its registry and its policy name (from the List step), and the mode. */
export interface RetentionSweepInput {
  readonly registry: string;
  readonly repository: string;
  readonly policy: string;
  /** @default 'dry-run' */
  readonly mode?: SweepMode;
  readonly force?: boolean;
  readonly correlationId?: string;
}

/**
 * Config, adapters, audit log, (when PULL_STATS_TABLE is set) the pull counters, (when
 * PROMOTIONS_TABLE is set) the promotion history whose locks the sweep honours and (when STATE_TABLE is
 * set) the Docker Hub pull budget every invocation shares, from the environment, as the replicate
 * handler builds its own.
 */
export async function retentionDepsFromEnvironment(env: Environment, handlerDir: string): Promise<RetentionDeps> {
  const auditTable = env.required(ENV.auditTable, 'the audit log table');
  const config = await loadBundledConfig(env.optional(ENV.configPath, DEFAULT_CONFIG_FILE), handlerDir);
  // Docker Hub's pull limit is per account: the sweep's manifest reads count where every invocation sees them.
  const sharedPullBudget = sharedPullBudgetFromEnvironment(env);
  const adapters = createAdapters(config, { secrets: new SecretsManagerResolver(), ...(sharedPullBudget ? { sharedPullBudget } : {}) });
  const { log } = openDynamoAuditLog({ tableName: auditTable, ...dynamoOptions(env) });
  const table = env.optional(PULL_STATS_ENV.table);
  const promotions = env.optional(PROMOTION_TABLES_ENV.promotions);
  const docClient = table || promotions ? createDynamoClients(dynamoOptions(env)).docClient : undefined;
  const pullStats = table && docClient ? new DynamoPullStatsStore({ docClient, tableName: table }) : undefined;
  const promotionHistory = promotions && docClient ? dynamoPromotionHistory({ docClient, tableName: promotions }) : undefined;
  return { config, adapters, audit: log, ...(pullStats ? { pullStats } : {}), ...(promotionHistory ? { promotionHistory } : {}) };
}

/** Calls the factory once; a failed build is retried on the next invocation. */
export function memoizeDeps(factory: RetentionDepsFactory): () => Promise<RetentionDeps> {
  return memoizeRetrying(factory);
}

/** Wraps a retention step in middy with the Powertools logger and tracer; errors leave as RetentionStepError. */
export function wrapRetentionStep<O>(
  name: string,
  core: (input: unknown, logger: Logger, context: LambdaContextLike) => Promise<O>,
  options: RetentionHandlerOptions,
): (input: unknown, context?: Partial<LambdaContextLike> | null) => Promise<O> {
  const defaults = options.logger && options.tracer ? undefined : createPowertools(options.serviceName);
  const logger = options.logger ?? (defaults as NonNullable<typeof defaults>).logger;
  const tracer = options.tracer ?? (defaults as NonNullable<typeof defaults>).tracer;
  const run = async (input: unknown, context: LambdaContextLike): Promise<O> => {
    const correlationId = (input as { correlationId?: unknown } | null)?.correlationId;
    logger.setCorrelationId(typeof correlationId === 'string' ? correlationId : context.awsRequestId);
    try {
      return await core(input, logger, context);
    } catch (err) {
      const typed = err instanceof RetentionStepError ? err : new RetentionStepError(err instanceof Error ? err.message : String(err), (err as { retryable?: boolean }).retryable === true, { cause: err });
      logger.error(`${name} failed`, { error: typed.message, retryable: typed.retryable });
      throw typed;
    }
  };
  const wrapped = middy(run).use(captureLambdaHandler(tracer)).use(injectLambdaContext(logger, { resetKeys: true }));
  return (input, context) => wrapped(input, lambdaContext(context, `regman-${name}`)) as Promise<O>;
}

function parseSweepInput(input: unknown): RetentionSweepInput {
  const o = input as Record<string, unknown> | null;
  const missing = o === null || typeof o !== 'object' ? ['(object)'] : ['registry', 'repository', 'policy'].filter((k) => typeof o[k] !== 'string' || o[k] === '');
  if (missing.length > 0) throw new RetentionStepError(`retention-sweep: the input lacks ${missing.join(', ')}`, false);
  const mode = (o as Record<string, unknown>).mode ?? 'dry-run';
  if (mode !== 'dry-run' && mode !== 'apply') throw new RetentionStepError(`retention-sweep: mode must be dry-run or apply, got ${JSON.stringify(mode)}`, false);
  return { ...(o as unknown as RetentionSweepInput), mode };
}

/**
 * The Sweep Task handler over a deps factory (the local stack and tests pass their own). Sweeps one
 * repository (dry run unless `mode: 'apply'`) and returns the summary; a repository whose listing
 * failed throws a retryable error (the ASL retries, then catches it for that item only).
 *
 * @example
 * const sweep = createRetentionSweepHandler(() => deps);
 * await sweep({ registry: 'ecr-prod', repository: 'shop/api', policy: 'prod', mode: 'apply' });
 */
export function createRetentionSweepHandler(
  depsFactory: RetentionDepsFactory,
  options: RetentionHandlerOptions = {},
): (input: unknown, context?: Partial<LambdaContextLike> | null) => Promise<SweepSummary> {
  const getDeps = memoizeDeps(depsFactory);
  const metrics = options.metrics ?? powertoolsMetrics(createPowertools(options.serviceName).metrics);
  return wrapRetentionStep('retention-sweep', async (raw, logger, context) => {
    const input = parseSweepInput(raw);
    const deps = await getDeps();
    // The policy may have changed between List and this item: the config decides, and says if it no longer applies.
    const governing = governingPolicy(deps.config, input.registry, input.repository);
    if (!governing || governing.policyName !== input.policy) {
      throw new RetentionStepError(`retention-sweep: ${input.registry}/${input.repository} is no longer governed by policy "${input.policy}"`, false);
    }
    // Read per item: a promotion finished since the List step still locks its digest.
    const lockedDigests = deps.promotionHistory ? await promotionLockedDigests(deps.promotionHistory) : undefined;
    let reports;
    try {
      reports = await runRetentionSweep({
        config: deps.config,
        adapters: deps.adapters,
        registry: input.registry,
        repository: input.repository,
        mode: input.mode ?? 'dry-run',
        ...(input.force ? { force: true } : {}),
        audit: deps.audit,
        actor: RETENTION_ACTOR,
        correlationId: input.correlationId ?? context.awsRequestId,
        ...(deps.now ? { now: deps.now() } : {}),
        ...(deps.pullStats ? { pullStats: deps.pullStats } : {}),
        ...(deps.pushTimes ? { pushTimes: deps.pushTimes } : {}),
        ...(lockedDigests ? { lockedDigests } : {}),
      });
    } catch (err) {
      if (err instanceof NoRetentionPolicyError) throw new RetentionStepError(err.message, false, { cause: err });
      throw err;
    }
    const summary = summarizeSweep(reports[0]!);
    if (summary.status === 'failed') throw new RetentionStepError(`retention-sweep: ${input.registry}/${input.repository}: ${summary.error ?? 'failed'}`, true);
    // Dry runs free nothing: only an applied sweep's figures are emitted.
    if (summary.status === 'applied' || summary.status === 'partial') {
      metrics.record(RetentionMetric.bytesFreed, 'Bytes', summary.bytesFreed, { registry: summary.registry });
      metrics.record(RetentionMetric.deleted, 'Count', summary.counts.deleted, { registry: summary.registry });
    }
    logger.info('Repository swept', { registry: summary.registry, repository: summary.repository, status: summary.status, ...summary.counts, bytesFreed: summary.bytesFreed });
    return summary;
  }, options);
}

const env = readEnvironment();
const HANDLER_DIR = moduleDir(import.meta.url);

/** The Lambda handler (CDK entry functions/handlers/retention-sweep.ts). */
export const handler = createRetentionSweepHandler(() => retentionDepsFromEnvironment(env, HANDLER_DIR));
