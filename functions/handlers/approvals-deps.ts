// Builds the approvals engine from a Lambda's environment: approvals table, audit log, HMAC key and Slack secrets from Secrets Manager, SES/Slack senders, SFN completer.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoApprovalStore } from '../approvals/dynamo-store.ts';
import { APPROVALS_ENV } from '../approvals/env-names.ts';
import { ApprovalError } from '../approvals/errors.ts';
import { configuredSenders } from '../approvals/notify/configured-senders.ts';
import type { PostJson } from '../approvals/notify/slack.ts';
import { approvalPolicyFor } from '../approvals/policy.ts';
import type { ApprovalRequester, TaskCompleter } from '../approvals/requester.ts';
import { CachedSecretText, hmacKeyFrom, trimmedSecret, type SecretTextSource } from '../approvals/secrets.ts';
import { ApprovalService } from '../approvals/service.ts';
import { SfnTaskCompleter } from '../approvals/sfn-completer.ts';
import { openDynamoAuditLog } from '../audit/index.ts';
import type { RegmanConfig } from '../config/types.ts';
import { createDynamoClients } from '../dynamo/client.ts';
import { ENV, type Environment } from '../env.ts';
import { redact } from '../oci/redact.ts';
import { loadBundledConfig } from './config.ts';
import { DEFAULT_CONFIG_FILE, dynamoOptions } from './deps.ts';

/** AWS clients and Slack endpoints, injectable (aws-sdk-client-mock, a fake Slack); each defaults to the real one in AWS_REGION. */
export interface ApprovalsClients {
  readonly sfn?: Pick<SFNClient, 'send'>;
  readonly ses?: Pick<SESClient, 'send'>;
  readonly secretsManager?: Pick<SecretsManagerClient, 'send'>;
  readonly post?: PostJson;
  readonly slackApiBase?: string;
  /** Lines of the engine: delivery failures. @default stderr, redacted */
  readonly log?: (line: string) => void;
}

export interface ApprovalsDeps {
  readonly config: RegmanConfig;
  readonly service: ApprovalService;
  readonly secrets: SecretTextSource;
  /** Set when REGMAN_SLACK_SIGNING_SECRET_ARN is: the Slack route verifies with it. */
  readonly slackSigningSecret?: () => Promise<string>;
}

const regionOf = (env: Environment): { region?: string } => {
  const region = env.optional('AWS_REGION');
  return region ? { region } : {};
};

/**
 * The engine that decides (approvals HTTP function) and requests (the promotion's RequestApproval):
 * every decision check, SendTaskSuccess/SendTaskFailure, and each edge's configured channels.
 *
 * @throws MissingEnvironmentError naming the variable; ConfigError for a bad bundled config.
 */
export async function approvalsDepsFromEnvironment(env: Environment, handlerDir: string, clients: ApprovalsClients = {}): Promise<ApprovalsDeps> {
  const tableName = env.required(APPROVALS_ENV.table, 'the approvals table');
  const auditTable = env.required(ENV.auditTable, 'the audit log table');
  const hmacSecret = env.required(APPROVALS_ENV.hmacKeySecret, 'the secret with the HMAC key that signs approval links');
  const consoleUrl = env.required(APPROVALS_ENV.consoleUrl, 'the console URL the links point at');
  const slackSecret = env.optional(APPROVALS_ENV.slackSigningSecret);
  const config = await loadBundledConfig(env.optional(ENV.configPath, DEFAULT_CONFIG_FILE), handlerDir);
  const secrets = new CachedSecretText({ client: clients.secretsManager ?? new SecretsManagerClient(regionOf(env)) });
  const service = new ApprovalService({
    store: new DynamoApprovalStore({ docClient: createDynamoClients(dynamoOptions(env)).docClient, tableName }),
    key: hmacKeyFrom(secrets, hmacSecret),
    completer: new SfnTaskCompleter(clients.sfn ?? new SFNClient(regionOf(env))),
    audit: openDynamoAuditLog({ tableName: auditTable, ...dynamoOptions(env) }).log,
    policyFor: (request) => approvalPolicyFor(config, request.edge),
    consoleUrl,
    senderFor: configuredSenders(config, {
      ses: clients.ses ?? new SESClient(regionOf(env)),
      secrets,
      ...(clients.post ? { post: clients.post } : {}),
      ...(clients.slackApiBase ? { slackApiBase: clients.slackApiBase } : {}),
    }),
    // Delivery failures (channel, recipient, error; never a link): to the function's log, redacted.
    log: clients.log ?? ((line) => process.stderr.write(`${redact(line)}\n`)),
  });
  return { config, service, secrets, ...(slackSecret ? { slackSigningSecret: trimmedSecret(secrets, slackSecret) } : {}) };
}

/** The console function may neither sign nor complete: its engine reads requests only. */
const readOnly = (what: string) => (): never => {
  throw new ApprovalError('APPROVAL_BAD_INPUT', 405, `The console is read-only: it cannot ${what}. Decide through the approval link or \`regman approve\`.`);
};
const READ_ONLY_COMPLETER: TaskCompleter = { succeed: async () => readOnly('complete a workflow task')(), fail: async () => readOnly('complete a workflow task')() };

/** The engine of the read-only console pages: the approvals table, no key, no completer, no channel. */
export async function consoleDepsFromEnvironment(env: Environment, handlerDir: string): Promise<Pick<ApprovalsDeps, 'config' | 'service'>> {
  const tableName = env.required(APPROVALS_ENV.table, 'the approvals table');
  const config = await loadBundledConfig(env.optional(ENV.configPath, DEFAULT_CONFIG_FILE), handlerDir);
  const service = new ApprovalService({
    store: new DynamoApprovalStore({ docClient: createDynamoClients(dynamoOptions(env)).docClient, tableName }),
    key: async () => readOnly('sign links')(),
    completer: READ_ONLY_COMPLETER,
    audit: { append: async () => readOnly('write to the audit log')() },
    policyFor: (request) => approvalPolicyFor(config, request.edge),
    consoleUrl: env.optional(APPROVALS_ENV.consoleUrl, ''),
    senderFor: () => undefined,
    log: () => undefined,
  });
  return { config, service };
}

/**
 * The promotion functions' approvals requester, by what lib/constructs/approvals.ts bound: RequestApproval
 * (bindRequester: table and HMAC key) gets the full engine; Record (bindCloser: table only) may only end a
 * request when the wait timed out or failed; any other function gets undefined (the minimal requester).
 */
export async function approvalRequesterFromEnvironment(env: Environment, handlerDir: string, clients: ApprovalsClients = {}): Promise<ApprovalRequester | undefined> {
  const tableName = env.optional(APPROVALS_ENV.table);
  if (tableName === undefined) return undefined;
  if (env.optional(APPROVALS_ENV.hmacKeySecret) !== undefined) return (await approvalsDepsFromEnvironment(env, handlerDir, clients)).service;
  const store = new DynamoApprovalStore({ docClient: createDynamoClients(dynamoOptions(env)).docClient, tableName });
  return {
    request: async () => {
      throw new ApprovalError('APPROVAL_BAD_INPUT', 500, `This function may only close approval requests (${APPROVALS_ENV.hmacKeySecret} is not set): bind RequestApproval with Approvals.bindRequester.`);
    },
    close: (requestId, state, reason) => store.endRequest(requestId, state, new Date().toISOString(), reason),
  };
}
