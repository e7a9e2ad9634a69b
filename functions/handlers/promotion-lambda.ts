// The promotion functions in Lambda: their deps from the environment (bundled config, adapters, audit, promotion tables, gates) and one handler per ASL task.
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { pusherFromAudit } from '../promotion/pusher-of.ts';
import { MinimalApprovalRequester } from '../approvals/minimal-requester.ts';
import { approvalRequesterFromEnvironment } from './approvals-deps.ts';
import { openDynamoAuditLog } from '../audit/index.ts';
import { createDynamoClients } from '../dynamo/client.ts';
import { ENV, type Environment } from '../env.ts';
import { codeBuildRunner } from '../gates/codebuild-runner.ts';
import { ecrFindingsReader } from '../gates/scan-ecr.ts';
import { lambdaInvoker, runTestGate } from '../gates/tests.ts';
import type { GateRunner, PromotionDeps } from '../promotion/deps.ts';
import { PromotionError } from '../promotion/errors.ts';
import { createGateRunners } from '../promotion/gate-runners.ts';
import { DynamoPromotionStore, PROMOTION_TABLES_ENV } from '../promotion/store.ts';
import { isScanFindingsSource } from '../registries/ecr/scan.ts';
import { createAdapters } from '../registries/factory.ts';
import { SecretsManagerResolver } from '../registries/secrets.ts';
import { loadBundledConfig } from './config.ts';
import { lambdaContext, type LambdaContextLike } from './context.ts';
import { DEFAULT_CONFIG_FILE, dynamoOptions, sharedPullBudgetFromEnvironment } from './deps.ts';
import { memoizeRetrying } from './memoize.ts';
import { createPowertools, powertoolsMetrics } from './observability.ts';
import type { MetricsLike } from '../replication/observability.ts';

/** One per finished promotion execution, with its final `status` (SUCCEEDED, FAILED, REJECTED, TIMED_OUT, ROLLED_BACK). */
export const PROMOTION_RECORDED_METRIC = 'PromotionsRecorded';
import { createPromotionTaskHandlers, type PromotionDepsFactory, type PromotionTask } from './promotion-tasks.ts';

/**
 * Everything a promotion step needs, from the environment: the config at REGMAN_CONFIG_PATH, an
 * adapter per registry (credentials from Secrets Manager), the audit log (AUDIT_TABLE), the promotion
 * tables (PROMOTIONS_TABLE, QUARANTINE_TABLE, HOLDS_TABLE), the gates, the minimal approvals
 * requester, and (when STATE_TABLE is set) the Docker Hub pull budget every invocation shares. Clients are created, not called: a step only reaches what its IAM role allows.
 *
 * @throws MissingEnvironmentError naming the variable; ConfigError for a bad config file.
 */
export async function promotionDepsFromEnvironment(env: Environment, handlerDir: string): Promise<PromotionDeps> {
  const config = await loadBundledConfig(env.optional(ENV.configPath, DEFAULT_CONFIG_FILE), handlerDir);
  const secrets = new SecretsManagerResolver();
  // Docker Hub's pull limit is per account: Sync, the gates and the retags count their pulls where every invocation sees them.
  const sharedPullBudget = sharedPullBudgetFromEnvironment(env);
  const adapters = createAdapters(config, { secrets, ...(sharedPullBudget ? { sharedPullBudget } : {}) });
  const { log } = openDynamoAuditLog({ tableName: env.required(ENV.auditTable, 'the audit log table'), ...dynamoOptions(env) });
  const store = new DynamoPromotionStore({
    docClient: createDynamoClients(dynamoOptions(env)).docClient,
    tables: {
      promotions: env.required(PROMOTION_TABLES_ENV.promotions, 'the promotions table'),
      quarantine: env.required(PROMOTION_TABLES_ENV.quarantine, 'the quarantine table'),
      holds: env.required(PROMOTION_TABLES_ENV.holds, 'the holds table'),
    },
  });
  const region = env.optional('AWS_REGION');
  const base = createGateRunners({ adapters, secrets });
  // The scan gate reads ECR findings from the edge's source registry (the runner is per registry).
  const scan: GateRunner = (input, edge) => {
    const source = adapters.get(input.registry);
    const ecrFindings = isScanFindingsSource(source) ? ecrFindingsReader(source) : undefined;
    return createGateRunners({ adapters, secrets, ...(ecrFindings ? { ecrFindings } : {}) }).scan!(input, edge);
  };
  const tests: GateRunner = (input, edge) => {
    if (!edge.gates.tests) throw new PromotionError('BAD_INPUT', `${input.edge.from} → ${input.edge.to} has no tests gate`);
    return runTestGate(input, edge.gates.tests, {
      invokeLambda: lambdaInvoker(new LambdaClient(region ? { region } : {})),
      runCodeBuild: codeBuildRunner(new CodeBuildClient(region ? { region } : {})),
    });
  };
  return {
    config,
    adapters,
    audit: log,
    store,
    pusherOf: pusherFromAudit(log),
    gates: { ...base, scan, tests },
    // The approvals engine where the Approvals construct bound this function (RequestApproval, Record), else the minimal requester.
    approvals: (await approvalRequesterFromEnvironment(env, handlerDir)) ?? new MinimalApprovalRequester({ store, edges: config.promotion }),
  };
}

/**
 * The Lambda handler of one promotion task (`PromotionValidateFunctionArn`, …), with the Powertools
 * logger (correlation id = the execution's) and tracer; errors leave with the names the ASL matches.
 *
 * @example
 * export const handler = promotionTaskHandler('PromotionValidateFunctionArn', () => promotionDepsFromEnvironment(env, dir));
 */
export function promotionTaskHandler(
  task: PromotionTask,
  deps: PromotionDepsFactory,
  options: { readonly logger?: Logger; readonly tracer?: Tracer; readonly metrics?: MetricsLike } = {},
): (event: unknown, context?: Partial<LambdaContextLike> | null) => Promise<unknown> {
  const run = createPromotionTaskHandlers(memoizeRetrying(deps))[task];
  const defaults = options.logger && options.tracer && options.metrics ? undefined : createPowertools();
  const logger = options.logger ?? defaults!.logger;
  const tracer = options.tracer ?? defaults!.tracer;
  const metrics = options.metrics ?? powertoolsMetrics(defaults!.metrics);
  const core = async (event: unknown): Promise<unknown> => {
    const input = (event as { state?: { input?: { correlationId?: unknown } }; input?: { correlationId?: unknown } } | null) ?? {};
    const correlationId = input.state?.input?.correlationId ?? input.input?.correlationId;
    if (typeof correlationId === 'string') logger.setCorrelationId(correlationId);
    try {
      const out = await run(event);
      // Every execution ends in Record with its final status: the dashboard's promotion and approval outcomes (REJECTED, TIMED_OUT are the approvals').
      const status = (event as { status?: unknown } | null)?.status;
      if (task === 'PromotionRecordFunctionArn' && typeof status === 'string') metrics.record(PROMOTION_RECORDED_METRIC, 'Count', 1, { status });
      return out;
    } catch (err) {
      logger.error(`${task} failed`, { error: (err as Error).message, name: (err as Error).name });
      throw err;
    }
  };
  const wrapped = middy(core).use(captureLambdaHandler(tracer)).use(injectLambdaContext(logger, { resetKeys: true }));
  return (event, context) => wrapped(event, lambdaContext(context, `regman-${task}`));
}
