// `regman retention plan` (offline, from files) and `regman retention run` (a sweep of a configured registry).
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { storagePriceOf } from '../../functions/config/index.ts';
import { AuditLog, InMemoryAuditStore, openDynamoAuditLog, type StoredAuditRecord } from '../../functions/audit/index.ts';
import { createDynamoClients } from '../../functions/dynamo/client.ts';
import { formatBytes } from '../../functions/format-bytes.ts';
import { DynamoPullStatsStore } from '../../functions/retention/pull-stats.ts';
import { NoRetentionPolicyError, runRetentionSweep } from '../../functions/retention/sweep-run.ts';
import type { SweepEvent, SweepReport } from '../../functions/retention/sweep.ts';
import { openLocalAuditLog } from '../../local/audit-access.ts';
import { defaultIo, formatTable, loadRegistries, withConfigOption, type RegistryCliIo } from './load-adapters.ts';
import { InputFileError, loadInventoryFile, loadPolicyFile } from '../../functions/retention/load.ts';
import { InventoryError, PolicyError, RetentionError, formatIssue } from '../../functions/retention/errors.ts';
import { planRetention, shortDigest } from '../../functions/retention/planner.ts';
import { toPlanJson } from '../../functions/retention/plan-json.ts';
import type { PolicyFormat, RetentionPlan } from '../../functions/retention/types.ts';
import { UsageError } from './run-cli.ts';

interface PlanFlags {
  readonly policy: string;
  readonly inventory: string;
  readonly now?: string;
  readonly json?: boolean;
  readonly format?: PolicyFormat;
  readonly maxDeleteShare?: string;
  readonly force?: boolean;
  readonly locked?: string[];
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function parseNow(value: string | undefined): Date {
  if (value === undefined) return new Date();
  const t = Date.parse(value);
  if (!ISO.test(value) || Number.isNaN(t)) throw new UsageError(`--now ${value} is not an ISO-8601 date-time`, '--now 2024-06-01T00:00:00Z');
  return new Date(t);
}

function parseShare(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n >= 0 && n <= 1) || value.trim() === '') throw new UsageError(`--max-delete-share ${value} must be a number between 0 and 1`, '--max-delete-share 0.8');
  return n;
}

/** Maps the library's input errors to usage errors (exit 2) that name the file and each bad path. */
function asUsageError(err: unknown, kind: 'policy' | 'inventory', file: string): unknown {
  if (err instanceof PolicyError || err instanceof InventoryError) {
    const lines = err.issues.map((i) => `  ${formatIssue(i)}`).join('\n');
    const what = err instanceof PolicyError ? `${err.format === 'retention' ? '' : `${err.format} `}${kind}` : kind;
    return new UsageError(`invalid ${what} ${file}:\n${lines}`, kind === 'policy' ? 'see docs/RETENTION.md for the accepted policy formats' : 'see docs/RETENTION.md for the inventory format');
  }
  if (err instanceof InputFileError) return new UsageError(err.message);
  return err;
}

/** A readable table: one line per digest, then the totals. */
export function formatPlanTable(plan: RetentionPlan): string {
  const clip = (text: string) => (text.length > 40 ? `${text.slice(0, 39)}…` : text);
  const rows = plan.decisions.map((d) => [d.action, shortDigest(d.digest), d.tags.length > 0 ? clip(d.tags.join(',')) : '<none>', d.rule, d.reason]);
  const header = ['ACTION', 'DIGEST', 'TAGS', 'RULE', 'REASON'];
  const widths = header.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i] as number) : c)).join('  ');
  const out = [`repository ${plan.repository} · policy ${plan.policyFormat} · now ${plan.now}`, '', line(header), ...rows.map(line), ''];
  out.push(`${plan.expire.length} to expire, ${plan.keep.length} to keep; bytes freed ${formatBytes(plan.bytesFreed)}${plan.bytesFreedEstimated ? ' (estimate)' : ''}`);
  const sources = new Map<string, number>();
  for (const d of plan.decisions) sources.set(d.timeSource, (sources.get(d.timeSource) ?? 0) + 1);
  if (sources.size > 1 || !sources.has('registry')) out.push(`times from: ${[...sources].map(([source, n]) => `${source} ${n}`).join(', ')}`);
  if (plan.orderBlocked.length > 0) out.push(`BLOCKED for want of an image order: ${plan.orderBlocked.length} deletion(s) kept (rule order.unknown)`);
  if (plan.blocked) out.push(`BLOCKED: ${plan.blocked.reason}`);
  if (plan.forced) out.push('safety valve overridden with --force');
  for (const w of plan.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}

async function planCommand(flags: PlanFlags): Promise<void> {
  const now = parseNow(flags.now);
  const maxDeleteShare = parseShare(flags.maxDeleteShare);
  const policy = await loadPolicyFile(flags.policy, flags.format ? { format: flags.format } : {}).catch((err: unknown) => {
    throw asUsageError(err, 'policy', flags.policy);
  });
  const inventory = await loadInventoryFile(flags.inventory).catch((err: unknown) => {
    throw asUsageError(err, 'inventory', flags.inventory);
  });
  let plan: RetentionPlan;
  try {
    plan = planRetention(inventory, policy, {
      now,
      ...(maxDeleteShare !== undefined ? { maxDeleteShare } : {}),
      ...(flags.force ? { force: true } : {}),
      ...(flags.locked ? { lockedDigests: flags.locked } : {}),
    });
  } catch (err) {
    if (err instanceof RetentionError) throw new UsageError(err.message);
    throw err;
  }
  process.stdout.write(flags.json ? `${JSON.stringify(toPlanJson(plan), null, 2)}\n` : `${formatPlanTable(plan)}\n`);
}

/** Adds `retention` and its `plan` subcommand. */
export function registerRetention(program: Command): void {
  const retention = program.command('retention').description('plan retention offline, and run retention sweeps');
  retention
    .command('plan')
    .description('plan offline which digests a policy expires in an inventory, and why')
    .requiredOption('--policy <file>', 'policy file (.json/.yaml): regman rules, ECR lifecycle policy JSON or GitLab cleanup policy')
    .requiredOption('--inventory <file>', 'repository inventory JSON (see docs/RETENTION.md)')
    .option('--now <iso>', 'plan as of this ISO-8601 instant (default: now)')
    .option('--json', 'print the plan as JSON (the stable contract in docs/RETENTION.md)')
    .option('--format <format>', 'read the policy as regman, ecr or gitlab instead of detecting it')
    .option('--max-delete-share <share>', 'block the plan when it expires more than this share of images (default 0.5)')
    .option('--force', 'plan past the safety valve')
    .option('--locked <digest...>', 'digests locked by an active promotion')
    .action(async (flags: PlanFlags) => {
      if (flags.format !== undefined && !['regman', 'ecr', 'gitlab'].includes(flags.format)) {
        throw new UsageError(`--format ${flags.format} is not one of regman, ecr, gitlab`);
      }
      await planCommand(flags);
    });
  registerRetentionRun(retention);
}

export interface RunFlags {
  readonly registry: string;
  readonly repository?: string;
  readonly dryRun?: boolean;
  readonly apply?: boolean;
  readonly force?: boolean;
  readonly json?: boolean;
  readonly config?: string;
  readonly now?: string;
  readonly auditTable?: string;
  readonly pullStatsTable?: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly stateDir?: string;
}

/** What `retention run --json` prints. */
export interface RunJson {
  readonly registry: string;
  readonly mode: 'dry-run' | 'apply';
  readonly reports: readonly SweepReport[];
  readonly totals: { readonly expired: number; readonly kept: number; readonly deleted: number; readonly failed: number; readonly bytesFreed: number; readonly estimatedMonthlySaving: number | null };
  /** Where the audit records went; `records` only when they were not persisted anywhere. */
  readonly audit: { readonly destination: string; readonly records?: readonly StoredAuditRecord[] };
  readonly notes: readonly string[];
}

const GC_NOTE = 'bytes freed are blob bytes no kept image references any more: the registry deletes manifests now and reclaims those blobs at its garbage collection';

function progressLine(e: SweepEvent): string {
  switch (e.type) {
    case 'listed':
      return `${e.repository}: ${e.images} manifest(s) listed`;
    case 'planned':
      return `${e.repository}: ${e.expire} to expire, ${e.keep} to keep${e.blocked ? ' (BLOCKED by the safety valve)' : ''}`;
    case 'deleted':
      return `${e.repository}: deleted ${shortDigest(e.digest)} (${e.rule})`;
    case 'delete-failed':
      return `${e.repository}: FAILED to delete ${shortDigest(e.digest)}: ${e.error}`;
    case 'delete-skipped':
      return `${e.repository}: kept ${shortDigest(e.digest)}: ${e.reason}`;
    case 'verified':
      return `${e.repository}: ${e.tags} current tag(s) checked, ${e.missing} problem(s)`;
  }
}

function saving(value: number | null): string {
  return value === null ? 'n/a' : `$${value.toFixed(2)}`;
}

/** The readable report: one row per repository, the expiring digests, totals and notes. */
export function formatRunTable(out: RunJson): string {
  const rows = out.reports.map((r) => [
    r.repository, r.policyName, r.status, String(r.counts.expired), String(r.counts.kept), String(r.counts.deleted), String(r.counts.failed),
    `${formatBytes(r.bytesFreed)}${r.bytesFreedEstimated ? ' (est.)' : ''}`, saving(r.estimatedMonthlySaving),
  ]);
  const lines = [`registry ${out.registry} · ${out.mode}`, '', formatTable(['REPOSITORY', 'POLICY', 'STATUS', 'EXPIRED', 'KEPT', 'DELETED', 'FAILED', 'BYTES FREED', 'SAVING/MONTH'], rows)];
  for (const r of out.reports) {
    if (r.plan.expire.length === 0 && r.plan.orderBlocked.length === 0 && !r.error && !r.blocked && r.failures.length === 0 && (r.verified?.problems.length ?? 0) === 0) continue;
    lines.push('', `${r.repository}:`);
    if (r.error) lines.push(`  FAILED: ${r.error}`);
    if (r.blocked) lines.push(`  BLOCKED: ${r.blocked.reason}`);
    const failed = new Map(r.failures.map((f) => [f.digest, `failed: ${f.error ?? ''}`]));
    for (const k of r.skipped) failed.set(k.digest, k.error ?? 'skipped');
    const done = new Set(r.deleted.map((d) => d.digest));
    for (const e of r.plan.expire) {
      const state = failed.has(e.digest) ? failed.get(e.digest) : done.has(e.digest) ? 'deleted' : out.mode === 'apply' && !r.blocked ? 'not deleted' : 'would delete';
      const source = r.plan.timeSources[e.digest];
      const dated = source && source !== 'registry' ? `  (time from ${source})` : '';
      lines.push(`  ${shortDigest(e.digest)}  ${e.tags.length > 0 ? e.tags.join(',') : '<none>'}  ${e.rule}  ${e.reason}${dated}  [${state}]`);
    }
    for (const b of r.plan.orderBlocked) lines.push(`  ${shortDigest(b.digest)}  ${b.tags.length > 0 ? b.tags.join(',') : '<none>'}  order.unknown  ${b.reason}  [blocked]`);
    for (const p of r.verified?.problems ?? []) lines.push(`  KEPT ${p.tag || shortDigest(p.digest)}: ${p.problem}`);
    for (const w of r.warnings) lines.push(`  warning: ${w}`);
  }
  const t = out.totals;
  lines.push('', `total: ${t.expired} expired, ${t.kept} kept, ${t.deleted} deleted, ${t.failed} failed; bytes freed ${formatBytes(t.bytesFreed)}; estimated saving ${saving(t.estimatedMonthlySaving)}/month`);
  for (const n of out.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

async function openRunAudit(flags: RunFlags): Promise<{ log: Pick<AuditLog, 'append'>; destination: string; records?: () => Promise<StoredAuditRecord[]>; close(): Promise<void> }> {
  if (flags.auditTable !== undefined && flags.stateDir !== undefined) throw new UsageError('--audit-table and --state-dir name two audit logs: give one');
  if (flags.auditTable !== undefined) {
    const opened = openDynamoAuditLog({ tableName: flags.auditTable, ...(flags.region ? { region: flags.region } : {}), ...(flags.endpoint ? { endpoint: flags.endpoint } : {}) });
    return { log: opened.log, destination: `DynamoDB table ${flags.auditTable}`, close: async () => opened.close() };
  }
  if (flags.stateDir !== undefined) {
    const opened = await openLocalAuditLog(flags.stateDir);
    return { log: opened.log, destination: `the local stack's audit log (${opened.via})`, close: () => opened.close() };
  }
  const store = new InMemoryAuditStore();
  const log = new AuditLog(store);
  return {
    log,
    destination: 'not persisted (pass --audit-table or --state-dir); the records are in --json output',
    records: async () => [...(await log.query({}))],
    close: async () => undefined,
  };
}

/**
 * Runs `regman retention run`: sweeps a configured registry with the config's retention policies.
 * Results on stdout, progress on stderr. Exit 1 (an Error) when a plan was blocked by the safety valve
 * (without --force), a deletion failed, a kept tag did not check out, or a repository could not be swept.
 */
export async function runRetention(flags: RunFlags, io: RegistryCliIo = defaultIo()): Promise<RunJson> {
  if (flags.dryRun && flags.apply) throw new UsageError('--dry-run and --apply contradict each other: give one (dry run is the default)');
  if ((flags.region !== undefined || flags.endpoint !== undefined) && flags.auditTable === undefined && flags.pullStatsTable === undefined) {
    throw new UsageError('--region and --endpoint go with --audit-table or --pull-stats-table');
  }
  const mode = flags.apply ? 'apply' : 'dry-run';
  const now = parseNow(flags.now);
  const loaded = await loadRegistries(flags.config, io);
  const audit = await openRunAudit(flags);
  const dynamo = flags.pullStatsTable !== undefined ? createDynamoClients({ ...(flags.region ? { region: flags.region } : {}), ...(flags.endpoint ? { endpoint: flags.endpoint } : {}) }) : undefined;
  try {
    let reports: SweepReport[];
    try {
      reports = await runRetentionSweep({
        config: loaded.config,
        adapters: loaded.adapters,
        registry: flags.registry,
        ...(flags.repository !== undefined ? { repository: flags.repository } : {}),
        mode,
        ...(flags.force ? { force: true } : {}),
        audit: audit.log,
        actor: `cli:${safeUser()}`,
        correlationId: randomUUID(),
        now,
        ...(dynamo ? { pullStats: new DynamoPullStatsStore({ docClient: dynamo.docClient, tableName: flags.pullStatsTable as string }) } : {}),
        onEvent: (e) => io.stderr(progressLine(e)),
      });
    } catch (err) {
      if (err instanceof NoRetentionPolicyError) throw new UsageError(err.message, `regman config validate ${loaded.file}`);
      throw err;
    }
    const sum = (f: (r: SweepReport) => number): number => reports.reduce((n, r) => n + f(r), 0);
    const savings = reports.map((r) => r.estimatedMonthlySaving);
    const registryConfig = loaded.config.registries[flags.registry];
    const price = registryConfig ? storagePriceOf(registryConfig) : undefined;
    const notes = [GC_NOTE];
    if (price === undefined) notes.push(`registry ${flags.registry} has no pricing.storagePerGbMonth in the config: no saving is estimated`);
    else notes.push(`saving estimated at $${price} per GB-month`);
    if (mode === 'dry-run') notes.push('dry run: nothing was deleted; re-run with --apply to delete');
    if (reports.some((r) => r.plan.orderBlocked.length > 0)) {
      notes.push('images without a push or creation time are never deleted by a count or age rule (order.unknown); give them a time (an org.opencontainers.image.created annotation or label, or a config created date) or delete them by digest');
    }
    const records = audit.records ? await audit.records() : undefined;
    const out: RunJson = {
      registry: flags.registry,
      mode,
      reports,
      totals: {
        expired: sum((r) => r.counts.expired),
        kept: sum((r) => r.counts.kept),
        deleted: sum((r) => r.counts.deleted),
        failed: sum((r) => r.counts.failed),
        bytesFreed: sum((r) => r.bytesFreed),
        estimatedMonthlySaving: savings.some((s) => s === null) ? null : Math.round(savings.reduce<number>((n, s) => n + (s ?? 0), 0) * 100) / 100,
      },
      audit: { destination: audit.destination, ...(records && flags.json ? { records } : {}) },
      notes,
    };
    io.stdout(flags.json ? JSON.stringify(out, null, 2) : formatRunTable(out));
    const blocked = reports.filter((r) => r.status === 'blocked');
    const broken = reports.filter((r) => r.status === 'failed' || r.status === 'partial');
    // Deletions a count or age rule wanted without a trustworthy order were not made: an apply must not look complete.
    const unordered = mode === 'apply' && !flags.force ? reports.filter((r) => r.plan.orderBlocked.length > 0) : [];
    if (blocked.length > 0 || broken.length > 0 || unordered.length > 0) {
      const parts = [
        ...(unordered.length > 0
          ? [`${unordered.reduce((n, r) => n + r.plan.orderBlocked.length, 0)} deletion(s) blocked for want of a trustworthy image order in ${unordered.map((r) => r.repository).join(', ')} (no push or creation time): they were kept; re-run with --force to accept that and exit 0`]
          : []),
        ...(blocked.length > 0 ? [`${blocked.length} repository plan(s) blocked by the safety valve (${blocked.map((r) => r.repository).join(', ')}); review and re-run with --force`] : []),
        ...(broken.length > 0 ? [`${broken.length} repository sweep(s) failed or incomplete (${broken.map((r) => r.repository).join(', ')})`] : []),
      ];
      throw new Error(parts.join('; '));
    }
    return out;
  } finally {
    dynamo?.destroy();
    await audit.close();
    loaded.close();
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** Adds `retention run` under `retention`. */
function registerRetentionRun(retention: Command, io?: RegistryCliIo): void {
  withConfigOption(
    retention
      .command('run')
      .description('sweep a configured registry with its retention policies: dry run by default, --apply deletes by digest (docs/RETENTION.md "Sweeps")'),
  )
    .requiredOption('--registry <name>', 'the configured registry to sweep')
    .option('--repository <name>', 'only this repository (default: every repository a policy governs)')
    .option('--dry-run', 'plan and report, delete nothing (the default)')
    .option('--apply', 'delete what the plan expires, in plan order')
    .option('--force', 'apply plans the safety valve blocked, and exit 0 when deletions were blocked for want of an image order (those images are still kept)')
    .option('--json', 'print the reports as JSON on stdout')
    .option('--now <iso>', 'sweep as of this ISO-8601 instant (default: now)')
    .option('--audit-table <name>', 'append audit records to this DynamoDB table (with --region/--endpoint)')
    .option('--state-dir <dir>', "append audit records to the local stack's audit log in this state folder")
    .option('--pull-stats-table <name>', 'read pull counts from this DynamoDB table (ECR registries)')
    .option('--region <region>', 'AWS region of the tables')
    .option('--endpoint <url>', 'DynamoDB endpoint (a local stack)')
    .action(async (flags: RunFlags) => {
      await runRetention(flags, io ?? defaultIo());
    });
}
