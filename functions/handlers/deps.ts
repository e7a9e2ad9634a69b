// Builds the handlers' dependencies from the environment at cold start: bundled config, registry adapters, audit log.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDynamoAuditLog } from '../audit/index.ts';
import { createDynamoClients, type DynamoClientOptions } from '../dynamo/client.ts';
import { DynamoReplicationState } from '../replication/dynamo-state.ts';
import { DynamoBlobProgress } from '../replication/dynamo-blob-progress.ts';
import { DynamoPullBudget } from '../registries/shared-pull-budget.ts';
import { ENV, type Environment } from '../env.ts';
import { createAdapters } from '../registries/factory.ts';
import { SecretsManagerResolver } from '../registries/secrets.ts';
import type { ReplicationDeps } from '../replication/replicate.ts';
import { SFNClient } from '@aws-sdk/client-sfn';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { CloudTrailPusherLookup } from '../replication/pusher/cloudtrail-lookup.ts';
import { FANOUT_ENV, fanoutPolicyFromEnvironment } from '../replication/large/decision.ts';
import { SfnFanoutStarter } from '../replication/large/image.ts';
import { DEFERRAL_STATE_MACHINE_ENV, SfnDeferralQueue } from '../replication/sfn-deferral.ts';
import type { ReplicationFanout } from '../replication/types.ts';
import { loadBundledConfig } from './config.ts';
import { DynamoPromotionStore, PROMOTION_TABLES_ENV } from '../promotion/store.ts';
import { quarantineLookupOf } from '../replication/quarantine-guard.ts';

/** Default config file name, next to the bundled handler (the CDK app writes it there). */
export const DEFAULT_CONFIG_FILE = 'regman.config.json';

/** Folder of a module from its `import.meta.url`; the working directory when bundled to CommonJS (no import.meta). */
export function moduleDir(url: string | undefined): string {
  return typeof url === 'string' && url.startsWith('file:') ? dirname(fileURLToPath(url)) : process.cwd();
}

/** DynamoDB endpoint (local stack) and region from the snapshot. */
export function dynamoOptions(env: Environment): DynamoClientOptions {
  const endpoint = env.optional(ENV.dynamoEndpoint);
  const region = env.optional('AWS_REGION');
  return { ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) };
}

/**
 * The Docker Hub pull budget every invocation shares (`budget#` items of the state table) when STATE_TABLE is
 * set, for the promotion and retention functions; undefined otherwise (the adapters budget in-process only).
 * The CDK stack sets STATE_TABLE on those functions only where they pull from a Hub registry with `rateLimit.pulls`
 * (lib/pull-budget-scopes.ts, BaseFunction.bindPullBudgetTable).
 */
export function sharedPullBudgetFromEnvironment(env: Environment): DynamoPullBudget | undefined {
  const stateTable = env.optional(ENV.stateTable);
  return stateTable ? new DynamoPullBudget({ docClient: createDynamoClients(dynamoOptions(env)).docClient, tableName: stateTable }) : undefined;
}

/**
 * Everything replicate and reconcile need, from the environment: the config at REGMAN_CONFIG_PATH
 * (default `regman.config.json` in `handlerDir`), an adapter per registry reading credentials from
 * Secrets Manager, and the audit log on AUDIT_TABLE. Logger and metrics are left to the handler.
 *
 * @throws MissingEnvironmentError naming the variable; ConfigError for a bad config file.
 */
export async function replicationDepsFromEnvironment(env: Environment, handlerDir: string): Promise<ReplicationDeps> {
  const auditTable = env.required(ENV.auditTable, 'the audit log table');
  const config = await loadBundledConfig(env.optional(ENV.configPath, DEFAULT_CONFIG_FILE), handlerDir);
  const stateTable = env.optional(ENV.stateTable);
  const stateDocClient = stateTable ? createDynamoClients(dynamoOptions(env)).docClient : undefined;
  // Docker Hub's pull limit is per account: every invocation counts its pulls in the state table.
  const sharedPullBudget = stateTable && stateDocClient ? new DynamoPullBudget({ docClient: stateDocClient, tableName: stateTable }) : undefined;
  const adapters = createAdapters(config, { secrets: new SecretsManagerResolver(), ...(sharedPullBudget ? { sharedPullBudget } : {}) });
  // Kept for the container's life: Lambda reuses it across invocations.
  const { log } = openDynamoAuditLog({ tableName: auditTable, ...dynamoOptions(env) });
  const fanout = fanoutFromEnvironment(env);
  const state = stateTable && stateDocClient ? new DynamoReplicationState({ docClient: stateDocClient, tableName: stateTable }) : undefined;
  const blobProgress = stateTable && stateDocClient ? new DynamoBlobProgress({ docClient: stateDocClient, tableName: stateTable }) : undefined;
  // Who pushed: CloudTrail LookupEvents in the function's region (the source ECR's), unless turned off.
  const region = env.optional('AWS_REGION');
  const pusher = env.optional(ENV.pusherLookup, env.optional(ENV.dynamoEndpoint) ? 'none' : 'cloudtrail') === 'cloudtrail' ? new CloudTrailPusherLookup({ client: new CloudTrailClient(region ? { region } : {}) }) : undefined;
  // Rate budgets: targets out of budget wait in the replicate-deferred state machine (lib/constructs/deferral.ts).
  const deferralArn = env.optional(DEFERRAL_STATE_MACHINE_ENV);
  const deferrals = deferralArn ? new SfnDeferralQueue({ client: new SFNClient(region ? { region } : {}), stateMachineArn: deferralArn }) : undefined;
  // Rules with `protected: true` read the quarantine (the promotion tables); without it they fail closed.
  const quarantineTable = env.optional(PROMOTION_TABLES_ENV.quarantine);
  const quarantine = quarantineTable
    ? quarantineLookupOf(new DynamoPromotionStore({ docClient: stateDocClient ?? createDynamoClients(dynamoOptions(env)).docClient, tables: { promotions: quarantineTable, quarantine: quarantineTable, holds: quarantineTable } }))
    : undefined;
  return { config, adapters, audit: log, ...(fanout ? { fanout } : {}), ...(deferrals ? { deferrals } : {}), ...(state ? { state } : {}), ...(blobProgress ? { blobProgress } : {}), ...(pusher ? { pusher } : {}), ...(quarantine ? { quarantine } : {}) };
}

/**
 * Large-image fan-out when REGMAN_LARGE_IMAGE_STATE_MACHINE_ARN is set (StartExecution on it), with the
 * REGMAN_FANOUT_* policy; undefined otherwise (every image is copied inline).
 */
export function fanoutFromEnvironment(env: Environment): ReplicationFanout | undefined {
  const stateMachineArn = env.optional(FANOUT_ENV.stateMachineArn);
  if (stateMachineArn === undefined) return undefined;
  const region = env.optional('AWS_REGION');
  return { starter: new SfnFanoutStarter({ client: new SFNClient(region ? { region } : {}), stateMachineArn }), policy: fanoutPolicyFromEnvironment(env) };
}
