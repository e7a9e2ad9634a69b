// regman approvals list | approve ID | reject ID --reason: operators decide with the same checks as the page (separation of duties included), audited with channel `cli`.
import type { Command } from 'commander';
import { SFNClient } from '@aws-sdk/client-sfn';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { StsCallerIdentity } from '../../functions/audit/actor/caller-identity.ts';
import { cliUser } from '../../functions/audit/actor/cli-actor.ts';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import { DynamoApprovalStore } from '../../functions/approvals/dynamo-store.ts';
import { formatPendingTable, toPendingJson, type PendingApprovalJson } from '../../functions/approvals/operator.ts';
import { ApprovalService } from '../../functions/approvals/service.ts';
import { SfnTaskCompleter } from '../../functions/approvals/sfn-completer.ts';
import { createDynamoClients } from '../../functions/dynamo/client.ts';
import { controlHeaders } from '../../local/control-auth.ts';
import { readLiveEndpoints } from '../../local/endpoints.ts';
import { UsageError } from './run-cli.ts';

interface Flags {
  readonly stateDir?: string;
  readonly approvalsTable?: string;
  readonly auditTable?: string;
  readonly region?: string;
  readonly as?: string;
  readonly json?: boolean;
  readonly reason?: string;
  readonly comment?: string;
}

/** Where approvals live: the running local stack (through its control listener), or the deployed tables. */
interface ApprovalsBackend {
  list(): Promise<PendingApprovalJson[]>;
  decide(id: string, action: 'approve' | 'reject', comment: string | undefined): Promise<{ state: string }>;
  close(): void;
}

async function localBackend(stateDir: string, identity: string): Promise<ApprovalsBackend> {
  const endpoints = await readLiveEndpoints(stateDir);
  if (!endpoints) throw new UsageError(`no local stack runs on ${stateDir}`, `regman local --state-dir ${stateDir}   (approvals are decided by the running stack)`);
  const base = `${endpoints.control}/operator/approvals`;
  const call = async (url: string, init?: RequestInit): Promise<Record<string, unknown>> => {
    const res = await fetch(url, init);
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(String(body.error ?? `HTTP ${res.status}`));
    return body;
  };
  return {
    list: async () => (await call(base)).pending as PendingApprovalJson[],
    decide: async (id, action, comment) =>
      (await call(`${base}/${encodeURIComponent(id)}/${action}`, {
        method: 'POST',
        headers: { ...controlHeaders(endpoints.controlToken), 'content-type': 'application/json' },
        body: JSON.stringify({ identity, ...(comment ? { comment } : {}) }),
      })) as { state: string },
    close: () => undefined,
  };
}

function awsBackend(flags: Flags, env: NodeJS.ProcessEnv, identity: () => Promise<string>): ApprovalsBackend {
  const table = flags.approvalsTable ?? env.REGMAN_APPROVALS_TABLE;
  const auditTable = flags.auditTable ?? env.REGMAN_AUDIT_TABLE;
  if (!table || !auditTable) {
    throw new UsageError('approvals need the deployed approvals and audit tables', '--approvals-table <ApprovalsTable> --audit-table <AuditTable>, or --state-dir .state for the local stack');
  }
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const clients = createDynamoClients(region ? { region } : {});
  const audit = openDynamoAuditLog({ tableName: auditTable, ...(region ? { region } : {}) });
  const service = new ApprovalService({
    store: new DynamoApprovalStore({ docClient: clients.docClient, tableName: table }),
    key: () => Promise.reject(new Error('operators do not sign links')),
    completer: new SfnTaskCompleter(new SFNClient(region ? { region } : {})),
    audit: audit.log,
    policyFor: () => {
      throw new Error('operators do not start approvals');
    },
    consoleUrl: '',
    senderFor: () => undefined,
  });
  return {
    list: async () => (await service.listPending()).map(toPendingJson),
    decide: async (id, action, comment) => service.decideAsIdentity(id, await identity(), 'cli', { action, ...(comment ? { comment } : {}) }),
    close: () => {
      clients.destroy();
      audit.close();
    },
  };
}

function common(cmd: Command): Command {
  return cmd
    .option('--state-dir <dir>', 'the running local stack in this state folder')
    .option('--approvals-table <name>', 'the deployed approvals table (default REGMAN_APPROVALS_TABLE)')
    .option('--audit-table <name>', 'the deployed audit table (default REGMAN_AUDIT_TABLE)')
    .option('--region <region>', 'AWS region (default AWS_REGION)');
}

async function open(flags: Flags): Promise<ApprovalsBackend> {
  if (flags.stateDir !== undefined) return localBackend(flags.stateDir, flags.as ?? cliUser(process.env));
  if (flags.as !== undefined) throw new UsageError('--as is for the local stack only: on AWS the identity is your IAM principal', '--state-dir .state --as alice');
  const region = flags.region ?? process.env.AWS_REGION;
  const sts = new StsCallerIdentity({ credentials: fromNodeProviderChain(), ...(region ? { region } : {}) });
  return awsBackend(flags, process.env, () => sts.callerArn());
}

async function decide(id: string, action: 'approve' | 'reject', flags: Flags): Promise<void> {
  const comment = action === 'reject' ? flags.reason : flags.comment;
  if (action === 'reject' && !comment?.trim()) throw new UsageError('a rejection needs a reason', `regman reject ${id} --reason "what is wrong"`);
  const backend = await open(flags);
  try {
    const result = await backend.decide(id, action, comment);
    process.stdout.write(`${action === 'approve' ? 'approved' : 'rejected'} ${id}: the request is ${result.state}\n`);
  } finally {
    backend.close();
  }
}

export function registerApprovals(program: Command): void {
  const approvals = program.command('approvals').description('approval requests waiting for a decision');
  common(approvals.command('list').description('list pending approval requests'))
    .option('--json', 'print JSON')
    .action(async (flags: Flags) => {
      const backend = await open(flags);
      try {
        const rows = await backend.list();
        process.stdout.write(flags.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatPendingTable(rows)}\n`);
      } finally {
        backend.close();
      }
    });
}

export function registerApprove(program: Command): void {
  common(program.command('approve <id>').description('approve a pending request as an operator (your IAM principal; locally your OS user or --as)'))
    .option('--as <identity>', 'locally: decide as this approver')
    .option('--comment <text>', 'a comment kept with the approval')
    .action((id: string, flags: Flags) => decide(id, 'approve', flags));
}

export function registerReject(program: Command): void {
  common(program.command('reject <id>').description('reject a pending request; the promotion ends REJECTED'))
    .option('--as <identity>', 'locally: decide as this approver')
    .requiredOption('--reason <text>', 'why (required)')
    .action((id: string, flags: Flags) => decide(id, 'reject', flags));
}
