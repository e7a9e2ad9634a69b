// Lambda entry for CloudTrail `BatchGetImage` calls (EventBridge "AWS API Call via CloudTrail"): counts pulls per digest per day.
import middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { createDynamoClients } from '../dynamo/client.ts';
import { readEnvironment, type Environment } from '../env.ts';
import {
  DynamoPullStatsStore, PULL_STATS_ENV, PullStatsEventError, parseBatchGetImageEvent, recordBatchGetImage, type PullStatsStore, type RecordPullsResult,
} from '../retention/pull-stats.ts';
import { lambdaContext, type LambdaContextLike } from './context.ts';
import { dynamoOptions } from './deps.ts';
import { createPowertools } from './observability.ts';

export interface PullStatsDeps {
  readonly store: PullStatsStore;
  /** Principal ARNs whose pulls are not counted: regman's replicate and sweep roles read manifests too. */
  readonly ignorePrincipals: readonly string[];
}

export type PullStatsHandlerResult = RecordPullsResult | { readonly status: 'rejected'; readonly reason: string };

/** The store on PULL_STATS_TABLE and the ignore list from REGMAN_PULL_STATS_IGNORE_PRINCIPALS (comma-separated). */
export function pullStatsDepsFromEnvironment(env: Environment): PullStatsDeps {
  const tableName = env.required(PULL_STATS_ENV.table, 'the pull statistics table');
  const ignorePrincipals = (env.optional(PULL_STATS_ENV.ignorePrincipals) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return { store: new DynamoPullStatsStore({ docClient: createDynamoClients(dynamoOptions(env)).docClient, tableName }), ignorePrincipals };
}

/**
 * The pull-stats handler over its deps (built once). An event that is not a successful
 * `BatchGetImage` call is logged and answered `rejected` (retrying cannot help); a DynamoDB failure
 * throws, so EventBridge's async invoke retries it.
 *
 * @example
 * const count = createPullStatsHandler(() => ({ store, ignorePrincipals: [replicateRoleArn] }));
 * await count(eventBridgeCloudTrailEvent);
 */
export function createPullStatsHandler(
  depsFactory: () => PullStatsDeps,
  options: { readonly logger?: Logger; readonly serviceName?: string } = {},
): (event: unknown, context?: Partial<LambdaContextLike> | null) => Promise<PullStatsHandlerResult> {
  const logger = options.logger ?? createPowertools(options.serviceName).logger;
  let deps: PullStatsDeps | undefined;
  const run = async (event: unknown): Promise<PullStatsHandlerResult> => {
    deps ??= depsFactory();
    let pull;
    try {
      pull = parseBatchGetImageEvent(event);
    } catch (err) {
      if (!(err instanceof PullStatsEventError)) throw err;
      logger.warn('Event rejected', { reason: err.message });
      return { status: 'rejected', reason: err.message };
    }
    logger.setCorrelationId(pull.eventId);
    const result = await recordBatchGetImage(deps.store, pull, { ignorePrincipals: deps.ignorePrincipals });
    logger.info(result.status === 'counted' ? 'Pulls counted' : 'Pull ignored', { repository: pull.repository, ...result });
    return result;
  };
  const wrapped = middy(run).use(injectLambdaContext(logger, { resetKeys: true }));
  return (event, context) => wrapped(event, lambdaContext(context, 'regman-pull-stats')) as Promise<PullStatsHandlerResult>;
}

const env = readEnvironment();

/** The Lambda handler (CDK entry functions/handlers/pull-stats.ts). */
export const handler = createPullStatsHandler(() => pullStatsDepsFromEnvironment(env));
