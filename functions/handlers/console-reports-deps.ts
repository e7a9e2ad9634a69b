// The console Lambda's report pages from its environment: the audit log on AUDIT_TABLE, the bundled config's registries and prices, read-only adapters, PULL_STATS_TABLE when set.
import { openDynamoAuditLog } from '../audit/index.ts';
import type { RegmanConfig } from '../config/types.ts';
import { createDynamoClients } from '../dynamo/client.ts';
import { ENV, type Environment } from '../env.ts';
import { createAdapters } from '../registries/factory.ts';
import { SecretsManagerResolver, type SecretResolver } from '../registries/secrets.ts';
import { DynamoPullStatsStore, PULL_STATS_ENV } from '../retention/pull-stats.ts';
import { collectedReports } from '../web/reports/collected-reports.ts';
import type { ConsoleReports } from '../web/reports/console-reports.ts';
import { dynamoOptions } from './deps.ts';

/** How long a report may run before the page says to use the CLI instead; below the console function's 30 s timeout (lib/constructs/approvals.ts). */
export const REPORT_DEADLINE_ENV = 'REGMAN_REPORT_DEADLINE_MS';
export const DEFAULT_REPORT_DEADLINE_MS = 20_000;

export interface ConsoleReportsDeps {
  /** @default Secrets Manager in AWS_REGION (the registries' `credentials.secretName`/`secretArn`) */
  readonly secrets?: SecretResolver;
}

/**
 * The report pages' data, or undefined without AUDIT_TABLE (the pages then say reports are not configured).
 * The adapters only read here: the collectors list repositories and images, GET manifests and small blobs.
 * Dead letters are an SQS queue in AWS, not read by the console: the usage page says none could be read.
 *
 * @throws Error when REGMAN_REPORT_DEADLINE_MS is not a positive integer.
 */
export function consoleReportsFromEnvironment(env: Environment, config: RegmanConfig, deps: ConsoleReportsDeps = {}): ConsoleReports | undefined {
  const auditTable = env.optional(ENV.auditTable);
  if (auditTable === undefined) return undefined;
  const deadline = Number(env.optional(REPORT_DEADLINE_ENV, String(DEFAULT_REPORT_DEADLINE_MS)));
  if (!Number.isInteger(deadline) || deadline < 0) throw new Error(`${REPORT_DEADLINE_ENV} must be a non-negative integer of milliseconds, got ${env.optional(REPORT_DEADLINE_ENV)}`);
  // Kept for the container's life: Lambda reuses it across invocations.
  const { log } = openDynamoAuditLog({ tableName: auditTable, ...dynamoOptions(env) });
  const pullStatsTable = env.optional(PULL_STATS_ENV.table);
  const region = env.optional('AWS_REGION');
  const cliFlags = [`--table ${auditTable}`, ...(region ? [`--region ${region}`] : [])].join(' ');
  return collectedReports({
    config,
    adapters: createAdapters(config, { secrets: deps.secrets ?? new SecretsManagerResolver() }),
    log,
    ...(pullStatsTable ? { pullStats: new DynamoPullStatsStore({ docClient: createDynamoClients(dynamoOptions(env)).docClient, tableName: pullStatsTable }) } : {}),
    deadlineMs: deadline,
    cliFlags,
  });
}
