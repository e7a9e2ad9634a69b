// Where `regman copy` and `regman sync` write their audit records, and as whom: the local stack's log, the AWS table, or nowhere (said on stderr).
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { CallerIdentityResolver } from '../../functions/audit/actor/caller-identity.ts';
import { resolveCliActor } from '../../functions/audit/actor/cli-actor.ts';
import type { AuditLog, AuditRecordInput } from '../../functions/audit/index.ts';
import { UsageError } from './run-cli.ts';

// The audit back ends load only when a record will be written (`import()` below): the DynamoDB
// client, the AWS credential chain, and the local stack's dynalite are about 4 MB of modules, and
// parsing them was most of a `regman copy` start-up without any audit flag (docs/BENCHMARKS.md, Copy).

export interface CliAuditFlags {
  /** The local stack's state folder: its audit log. */
  readonly stateDir?: string;
  /** The deployed audit table (else `REGMAN_AUDIT_TABLE`). */
  readonly auditTable?: string;
  readonly auditRegion?: string;
  /** A DynamoDB endpoint for the table (dynalite): no IAM, so the actor is `cli:<user>`. */
  readonly auditEndpoint?: string;
}

/** One CLI run's audit trail: every record gets the same actor and correlation id. */
export interface CliAuditTrail {
  readonly actor: string;
  readonly correlationId: string;
  /** Where records go, for messages. */
  readonly where: string;
  record(input: Omit<AuditRecordInput, 'actor' | 'correlationId'>): Promise<void>;
  close(): Promise<void>;
}

export interface CliAuditDeps {
  /** STS stand-in (tests). */
  readonly identity?: CallerIdentityResolver;
  readonly stderr: (line: string) => void;
}

/** Adds the flags that say where the audit records go. */
export function withAuditOptions(cmd: Command): Command {
  return cmd
    .option('--state-dir <dir>', "audit into the local stack's log in this state folder")
    .option('--audit-table <name>', 'audit into the deployed audit table (default REGMAN_AUDIT_TABLE); the actor is your IAM principal')
    .option('--audit-region <region>', 'AWS region of --audit-table (default AWS_REGION)')
    .option('--audit-endpoint <url>', 'DynamoDB endpoint of --audit-table (e.g. a dynalite)');
}

/**
 * How the CLI decides: `--state-dir` → the local stack's log (actor `cli:<user>`); else
 * `--audit-table` or `REGMAN_AUDIT_TABLE` → that DynamoDB table (actor: the IAM principal from STS,
 * or `cli:<user>` with `--audit-endpoint`); else nothing is recorded and one line on stderr says so,
 * so `regman copy` stays usable without any stack.
 */
export async function openCliAuditTrail(flags: CliAuditFlags, env: NodeJS.ProcessEnv, deps: CliAuditDeps): Promise<CliAuditTrail | undefined> {
  const table = flags.auditTable ?? env.REGMAN_AUDIT_TABLE;
  if (flags.stateDir !== undefined && flags.auditTable !== undefined) {
    throw new UsageError('--state-dir and --audit-table name two different audit logs: give one', '--state-dir .state   or   --audit-table <AuditTable>');
  }
  let log: AuditLog;
  let close: () => Promise<void>;
  let where: string;
  let identity: CallerIdentityResolver | undefined;
  if (flags.stateDir !== undefined) {
    const { openLocalAuditLog } = await import('../../local/audit-access.ts');
    const opened = await openLocalAuditLog(flags.stateDir);
    ({ log, close } = opened);
    where = `the local audit log (${opened.via})`;
  } else if (table !== undefined && table !== '') {
    const region = flags.auditRegion ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    const { openDynamoAuditLog } = await import('../../functions/audit/index.ts');
    const opened = openDynamoAuditLog({ tableName: table, ...(region ? { region } : {}), ...(flags.auditEndpoint ? { endpoint: flags.auditEndpoint } : {}) });
    log = opened.log;
    close = async () => opened.close();
    where = `the audit table ${table}`;
    if (flags.auditEndpoint === undefined) identity = deps.identity ?? (await stsIdentity(region));
  } else {
    deps.stderr('audit: not recorded (no --state-dir, --audit-table or REGMAN_AUDIT_TABLE)');
    return undefined;
  }
  const { actor, note } = await resolveCliActor({ env, ...(identity ? { identity } : {}) });
  if (note) deps.stderr(note);
  const correlationId = `cli-${randomUUID()}`;
  return {
    actor,
    correlationId,
    where,
    async record(input) {
      await log.append({ ...input, actor, correlationId });
    },
    close,
  };
}

/** The STS resolver of the audit actor, with the AWS SDK's default credential chain (loaded on demand). */
async function stsIdentity(region: string | undefined): Promise<CallerIdentityResolver> {
  const [{ fromNodeProviderChain }, { StsCallerIdentity }] = await Promise.all([
    import('@aws-sdk/credential-providers'),
    import('../../functions/audit/actor/caller-identity.ts'),
  ]);
  return new StsCallerIdentity({ credentials: fromNodeProviderChain(), ...(region ? { region } : {}) });
}
