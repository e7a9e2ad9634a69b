// Where promotion commands act: the local stack (--state-dir: its control URL and dynalite) or AWS (StartExecution, the tables, SendTask*).
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { openDynamoAuditLog, type AuditLog } from '../../functions/audit/index.ts';
import { createDynamoClients } from '../../functions/dynamo/client.ts';
import { DynamoPromotionStore, PROMOTION_TABLES_ENV, type PromotionStore } from '../../functions/promotion/store.ts';
import type { PromotionInput } from '../../functions/promotion/types.ts';
import { controlHeaders } from '../../local/control-auth.ts';
import { readLiveEndpoints } from '../../local/endpoints.ts';
import type { StartPromotionBody } from '../../local/promotion-routes.ts';
import { PROMOTION_ROLLBACK_FUNCTION_ENV, invokeRollback } from './aws-rollback.ts';
import { StsCallerIdentity, type CallerIdentitySource } from './caller-identity.ts';
import { UsageError } from './run-cli.ts';

/** Env var with the deployed promotion state machine's ARN (the stack output PromotionStateMachineArn). */
export const PROMOTION_STATE_MACHINE_ENV = 'REGMAN_PROMOTION_STATE_MACHINE_ARN';

export interface BackendFlags {
  readonly stateDir?: string;
  readonly stateMachineArn?: string;
  readonly region?: string;
}

export interface StartResult {
  readonly executionId: string;
  readonly status: string;
  readonly digest?: string;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface PromotionBackend {
  readonly where: string;
  readonly store: PromotionStore;
  /** The audit log hold and quarantine changes go to. */
  readonly audit: Pick<AuditLog, 'append'>;
  /** `requestedBy`: locally who acts (default cli:<os user>); on AWS the identity the caller's IAM principal acts for. */
  rollback(body: { env: string; repository: string; to?: string; reason: string; requestedBy?: string }): Promise<Record<string, unknown>>;
  start(body: StartPromotionBody): Promise<StartResult>;
  /**
   * Who a hold or quarantine change is recorded as: locally `as` or cli:<os user>; on AWS the caller's IAM
   * principal, with `as` as the identity it acts for.
   */
  actor(as?: string): Promise<{ readonly actor: string; readonly onBehalfOf?: string }>;
  close(): void;
}

/** Adds --state-dir / --state-machine-arn / --region to a command. */
export function backendOptions(cmd: Command): Command {
  return cmd
    .option('--state-dir <dir>', 'the running local stack\'s state folder (default .state unless --state-machine-arn or REGMAN_PROMOTION_STATE_MACHINE_ARN is set)')
    .option('--state-machine-arn <arn>', `the deployed promotion state machine (default $${PROMOTION_STATE_MACHINE_ENV}); tables from $${PROMOTION_TABLES_ENV.promotions}, $${PROMOTION_TABLES_ENV.quarantine}, $${PROMOTION_TABLES_ENV.holds}`)
    .option('--region <region>', 'AWS region (default AWS_REGION)');
}

/** `cli:<os user>`: who a local command acts as unless --requested-by says. */
export function defaultIdentity(): string {
  return `cli:${userInfo().username}`;
}

async function postJson(url: string, token: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...controlHeaders(token) }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The AWS control-plane clients of the AWS backend (tests pass mocks). */
export interface AwsBackendClients {
  readonly sfn?: Pick<SFNClient, 'send' | 'destroy'>;
  readonly lambda?: Pick<LambdaClient, 'send' | 'destroy'>;
  /** Who the caller is: the requester of promote and rollback on AWS. @default STS GetCallerIdentity */
  readonly identity?: CallerIdentitySource;
}

export async function openPromotionBackend(flags: BackendFlags, aws: AwsBackendClients = {}): Promise<PromotionBackend> {
  const arn = flags.stateMachineArn ?? (flags.stateDir === undefined ? process.env[PROMOTION_STATE_MACHINE_ENV] : undefined);
  if (arn !== undefined && flags.stateDir !== undefined) throw new UsageError('--state-dir and --state-machine-arn name two different stacks: give one');
  if (arn === undefined) {
    const stateDir = flags.stateDir ?? '.state';
    const live = await readLiveEndpoints(stateDir);
    if (!live) throw new UsageError(`no local stack runs on ${stateDir}`, `regman local --state-dir ${stateDir}   (in another terminal), or --state-machine-arn for AWS`);
    const clients = createDynamoClients({ endpoint: live.dynamodb.endpoint, region: 'local' });
    const tables = live.dynamodb.tables as Record<string, string>;
    const store = new DynamoPromotionStore({ docClient: clients.docClient, tables: { promotions: tables.promotions!, quarantine: tables.quarantine!, holds: tables.holds! } });
    const audit = openDynamoAuditLog({ endpoint: live.dynamodb.endpoint, tableName: tables.audit!, region: 'local' });
    return {
      where: `the local stack (pid ${live.pid}) on ${stateDir}`,
      store,
      audit: audit.log,
      async rollback(body) {
        const res = await postJson(`${live.control}/rollback`, live.controlToken, { ...body, requestedBy: body.requestedBy ?? defaultIdentity() });
        if (res.status !== 200) throw new UsageError(String(res.body.error ?? `HTTP ${res.status}`));
        return res.body;
      },
      async start(body) {
        const res = await postJson(`${live.control}/promotions`, live.controlToken, { ...body, requestedBy: body.requestedBy ?? defaultIdentity() });
        if (res.status !== 200) throw new Error(`the local stack refused the promotion: ${String(res.body.error ?? res.status)}`);
        return res.body as unknown as StartResult;
      },
      actor: async (as) => ({ actor: as ?? defaultIdentity() }),
      close: () => {
        audit.close();
        clients.destroy();
      },
    };
  }
  const region = flags.region ?? process.env.AWS_REGION;
  const tableNames = {
    promotions: process.env[PROMOTION_TABLES_ENV.promotions],
    quarantine: process.env[PROMOTION_TABLES_ENV.quarantine],
    holds: process.env[PROMOTION_TABLES_ENV.holds],
  };
  const missing = Object.entries(PROMOTION_TABLES_ENV).filter(([k]) => !tableNames[k as keyof typeof tableNames]).map(([, v]) => v);
  if (missing.length) throw new UsageError(`set ${missing.join(', ')} to the deployed tables (stack outputs)`);
  const clients = createDynamoClients(region ? { region } : {});
  const store = new DynamoPromotionStore({ docClient: clients.docClient, tables: tableNames as { promotions: string; quarantine: string; holds: string } });
  const sfn = aws.sfn ?? new SFNClient(region ? { region } : {});
  const lambda = aws.lambda ?? new LambdaClient(region ? { region } : {});
  // The requester on AWS is the caller's IAM principal; --requested-by names whom it acts for.
  const identity = aws.identity ?? new StsCallerIdentity(region ? { region } : {});
  const rollbackFunction = process.env[PROMOTION_ROLLBACK_FUNCTION_ENV];
  const auditTable = process.env.AUDIT_TABLE;
  if (!auditTable) throw new UsageError('set AUDIT_TABLE to the deployed audit table (stack output AuditTableName)');
  const audit = openDynamoAuditLog({ tableName: auditTable, ...(region ? { region } : {}) });
  return {
    where: arn,
    store,
    audit: audit.log,
    async rollback(body) {
      if (!rollbackFunction) throw new UsageError(`set ${PROMOTION_ROLLBACK_FUNCTION_ENV} to the deployed rollback function (stack output PromotionRollbackFunctionName)`);
      const actor = await identity.callerArn();
      return invokeRollback(lambda, rollbackFunction, {
        environment: body.env,
        repository: body.repository,
        ...(body.to ? { to: body.to } : {}),
        reason: body.reason,
        actor,
        ...(body.requestedBy && body.requestedBy !== actor ? { onBehalfOf: body.requestedBy } : {}),
      });
    },
    async actor(as) {
      const actor = await identity.callerArn();
      return { actor, ...(as && as !== actor ? { onBehalfOf: as } : {}) };
    },
    async start(body) {
      const requester = await identity.callerArn();
      const executionId = `promo-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
      const input: PromotionInput = {
        executionId,
        correlationId: randomUUID(),
        repository: body.repository!,
        tag: body.tag!,
        from: body.from!,
        to: body.to!,
        requester,
        ...(body.requestedBy && body.requestedBy !== requester ? { onBehalfOf: body.requestedBy } : {}),
        ...(body.reason ? { reason: body.reason } : {}),
        ...(body.overrideFreeze ? { overrideFreeze: true } : {}),
        trigger: body.trigger ?? 'cli',
        requestedAt: new Date().toISOString(),
      };
      await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: executionId, input: JSON.stringify(input) }));
      return { executionId, status: 'RUNNING' };
    },
    close: () => {
      audit.close();
      clients.destroy();
      sfn.destroy();
      lambda.destroy();
    },
  };
}
