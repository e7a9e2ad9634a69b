// `regman audit query|verify`: reads the hash-chained audit log of the deployed stack (--table) or of the local stack (--state-dir).
import type { Command } from 'commander';
import { openDynamoAuditLog, type AuditHead, type AuditLog, type AuditQuery, type StoredAuditRecord, type VerifyResult } from '../../functions/audit/index.ts';
import { openLocalAuditLog } from '../../local/audit-access.ts';
import { UsageError } from './run-cli.ts';
import { readFile } from 'node:fs/promises';
import { S3Client } from '@aws-sdk/client-s3';
import type { AnchorSink } from '../../functions/audit/anchor.ts';
import { verifyAnchored, writeAnchor, type AnchoredVerifyResult } from '../../functions/audit/anchoring.ts';
import { FileAnchorSink } from '../../functions/audit/anchors/file-sink.ts';
import { S3AnchorSink } from '../../functions/audit/anchors/s3-sink.ts';
import { anchorFolder, anchorLocalLog } from '../../local/audit-anchors.ts';
import { scanInWorkers, type ParallelScanSource } from '../../functions/reports/parallel-audit-scan.ts';

export interface ConnectionFlags {
  readonly stateDir?: string;
  readonly table?: string;
  readonly region?: string;
  readonly endpoint?: string;
}

interface QueryFlags extends ConnectionFlags {
  readonly repository?: string;
  readonly action?: string;
  readonly actor?: string;
  readonly correlationId?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: string;
  readonly oldestFirst?: boolean;
  readonly json?: boolean;
}

interface VerifyFlags extends ConnectionFlags {
  readonly partition?: string;
  readonly json?: boolean;
  readonly anchorBucket?: string;
  readonly anchorPublicKey?: string;
}

interface AnchorFlags extends ConnectionFlags {
  readonly anchorBucket?: string;
  readonly anchorKeyFile?: string;
}

/** The default state folder, as `regman local` uses it. */
const DEFAULT_STATE_DIR = '.state';

/** Opens the log named by the flags: `--table` (AWS, or `--endpoint`) or `--state-dir` (the local stack; the default). */
export async function openAuditLog(flags: ConnectionFlags): Promise<{ log: AuditLog; close(): Promise<void>; parallel?: ParallelScanSource }> {
  if (flags.table !== undefined && flags.stateDir !== undefined) {
    throw new UsageError('--table and --state-dir name two different audit logs: give one', '--state-dir .state   or   --table <AuditTable> --region eu-west-1');
  }
  if (flags.table !== undefined) {
    const opened = openDynamoAuditLog({
      tableName: flags.table,
      ...(flags.region !== undefined ? { region: flags.region } : {}),
      ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
    });
    // Whole-table reads (verify, compliance) in worker threads over the lean client (functions/reports/parallel-audit-scan.ts).
    return { log: opened.log, close: async () => opened.close(), parallel: { raw: opened.raw, tableName: flags.table, onRetry: (m) => process.stderr.write(`regman: ${m}\n`) } };
  }
  if (flags.region !== undefined || flags.endpoint !== undefined) throw new UsageError('--region and --endpoint go with --table', '--table <AuditTable> --region eu-west-1');
  return openLocalAuditLog(flags.stateDir ?? DEFAULT_STATE_DIR);
}

function toQuery(flags: QueryFlags): AuditQuery {
  let limit: number | undefined;
  if (flags.limit !== undefined) {
    limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit ${flags.limit} must be a non-negative integer`, '--limit 50');
  }
  return {
    ...(flags.repository !== undefined ? { repository: flags.repository } : {}),
    ...(flags.action !== undefined ? { action: flags.action } : {}),
    ...(flags.actor !== undefined ? { actor: flags.actor } : {}),
    ...(flags.correlationId !== undefined ? { correlationId: flags.correlationId } : {}),
    ...(flags.since !== undefined ? { since: flags.since } : {}),
    ...(flags.until !== undefined ? { until: flags.until } : {}),
    ...(limit !== undefined ? { limit } : {}),
    order: flags.oldestFirst ? 'oldest-first' : 'newest-first',
  };
}

const shortDigest = (d: string | undefined): string => (d ? d.replace(/^sha256:/, '').slice(0, 12) : '-');

/** One line per record: time, action, outcome, repository@digest, source → target, actor, correlation id. */
export function formatAuditTable(records: readonly StoredAuditRecord[]): string {
  const rows = records.map((r) => [
    r.time,
    r.action,
    r.outcome + (r.errorCode ? ` (${r.errorCode})` : ''),
    `${r.repository ?? '-'}@${shortDigest(r.digest)}${r.tags?.length ? ` [${r.tags.join(',')}]` : ''}`,
    r.source || r.target ? `${r.source ?? '-'} → ${r.target ?? '-'}` : (r.registry ?? '-'),
    r.actor,
    r.correlationId,
  ]);
  const header = ['TIME', 'ACTION', 'OUTCOME', 'IMAGE', 'WHERE', 'ACTOR', 'CORRELATION'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i]!) : c)).join('  ');
  return [line(header), ...rows.map(line), `${records.length} record${records.length === 1 ? '' : 's'}`].join('\n');
}

/** `ok` or the first broken link, for people. */
export function formatVerifyResult(result: VerifyResult | AnchoredVerifyResult): string {
  const anchor = 'anchor' in result && result.anchor ? `; checked against the signed anchor of ${result.anchor.time} (${result.anchor.heads} heads)` : '';
  const summary = `${result.checked} record${result.checked === 1 ? '' : 's'} in ${result.partitions.length} chain${result.partitions.length === 1 ? '' : 's'}${anchor}`;
  if (result.ok) {
    const empty = result.emptyPartitions.length > 0 ? `\nnote: registered chains without records: ${result.emptyPartitions.join(', ')}` : '';
    return `audit log verified: ${summary}, every hash and link intact${empty}`;
  }
  const b = result.firstBroken!;
  const lines = [`audit log BROKEN: ${summary} checked, ${result.broken.length} chain${result.broken.length === 1 ? '' : 's'} broken`];
  lines.push(`first broken link: chain ${b.partition}, record ${b.seq}: ${b.reason}: ${b.detail}`);
  for (const other of result.broken.slice(1)) lines.push(`also broken: chain ${other.partition}, record ${other.seq}: ${other.reason}`);
  return lines.join('\n');
}

export function connectionOptions(cmd: Command): Command {
  return cmd
    .option('--state-dir <dir>', `the local stack's state folder (default ${DEFAULT_STATE_DIR}; via its endpoint while it runs, else its files)`)
    .option('--table <name>', 'the deployed audit table (the stack output AuditTableName)')
    .option('--region <region>', 'AWS region of --table (default AWS_REGION)')
    .option('--endpoint <url>', 'DynamoDB endpoint of --table (e.g. a dynalite)');
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('query and verify the hash-chained audit log');

  connectionOptions(
    audit
      .command('query')
      .description('list audit records, newest first')
      .option('--repository <name>', 'only this repository (OCI path)')
      .option('--action <action>', 'only this action (replicate, reconcile, event.rejected, ...)')
      .option('--actor <actor>', 'only this actor (event:aws.ecr, system:reconcile, ...)')
      .option('--correlation-id <id>', 'only the records of this event or CLI run (every step of one promotion, one sync, ...)')
      .option('--since <time>', 'ISO time, date, or a duration before now (30m, 24h, 7d)')
      .option('--until <time>', 'exclusive upper bound, same forms as --since')
      .option('--limit <n>', 'at most n records')
      .option('--oldest-first', 'oldest first')
      .option('--json', 'JSON: an array of the stored records (with seq, prevHash, hash)'),
  ).action(async (flags: QueryFlags) => {
    const query = toQuery(flags);
    const { log, close } = await openAuditLog(flags);
    try {
      const records = await log.query(query);
      process.stdout.write((flags.json ? JSON.stringify(records, null, 2) : formatAuditTable(records)) + '\n');
    } finally {
      await close();
    }
  });

  connectionOptions(
    audit
      .command('verify')
      .description('recompute every hash chain; exit 1 and print the first broken link when one is broken')
      .option('--partition <partition>', 'only this chain (e.g. repo#team/app)')
      .option('--anchor-bucket <bucket>', 'with --table: the Object Lock bucket of the signed head anchors (stack output AuditAnchorBucketName)')
      .option('--anchor-public-key <file>', 'PEM public key the anchors must be signed with (default: the key each anchor names)')
      .option('--json', 'JSON: the verify result'),
  ).action(async (flags: VerifyFlags) => {
    const { log, close, parallel } = await openAuditLog(flags);
    try {
      const trustedPublicKey = flags.anchorPublicKey !== undefined ? await readFile(flags.anchorPublicKey, 'utf8') : undefined;
      const result = await verifyAnchored(log, anchorSinkFor(flags), {
        ...(flags.partition !== undefined ? { partition: flags.partition } : {}),
        ...(trustedPublicKey !== undefined ? { trustedPublicKey } : {}),
        ...(parallel ? { scan: async (anchors: ReadonlyMap<string, AuditHead[]>) => (await scanInWorkers(parallel, anchors)).chains } : {}),
      });
      process.stdout.write((flags.json ? JSON.stringify(result, null, 2) : formatVerifyResult(result)) + '\n');
      if (!result.ok) process.exitCode = 1;
    } finally {
      await close();
    }
  });

  registerAuditAnchor(audit);
}

/** The anchors' sink: the Object Lock bucket with --table, else the state folder's audit-anchors/. */
function anchorSinkFor(flags: ConnectionFlags & { readonly anchorBucket?: string }): AnchorSink | undefined {
  if (flags.anchorBucket !== undefined) {
    if (flags.table === undefined) throw new UsageError('--anchor-bucket goes with --table', '--table <AuditTable> --anchor-bucket <AuditAnchorBucketName>');
    return new S3AnchorSink({ client: new S3Client(flags.region !== undefined ? { region: flags.region } : {}), bucket: flags.anchorBucket });
  }
  if (flags.table !== undefined) return undefined;
  return new FileAnchorSink(anchorFolder(flags.stateDir ?? DEFAULT_STATE_DIR));
}

/** `regman audit anchor`: signs every chain head now (the local stack also does it hourly and at stop). */
export function registerAuditAnchor(audit: Command): void {
  connectionOptions(
    audit
      .command('anchor')
      .description('write a signed digest of every chain head (to the state folder, or with --table to --anchor-bucket), so a deleted tail shows later')
      .option('--anchor-bucket <bucket>', 'with --table: the Object Lock bucket')
      .option('--anchor-key-file <file>', 'with --anchor-bucket: the Ed25519 private key (PEM) to sign with'),
  ).action(async (flags: AnchorFlags) => {
    const { log, close } = await openAuditLog(flags);
    try {
      let where: string;
      if (flags.table !== undefined) {
        if (flags.anchorBucket === undefined || flags.anchorKeyFile === undefined) {
          throw new UsageError('with --table, give --anchor-bucket and --anchor-key-file', '--table <AuditTable> --anchor-bucket <bucket> --anchor-key-file anchor-key.pem');
        }
        where = (await writeAnchor(log, anchorSinkFor(flags) as AnchorSink, await readFile(flags.anchorKeyFile, 'utf8'))).where;
      } else {
        where = await anchorLocalLog(log, flags.stateDir ?? DEFAULT_STATE_DIR);
      }
      process.stdout.write(`anchored every chain head: ${where}\n`);
    } finally {
      await close();
    }
  });
}
