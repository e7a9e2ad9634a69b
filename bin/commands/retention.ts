// `regman retention plan`: an offline retention plan from a policy file and an inventory file.
import type { Command } from 'commander';
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

function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** A readable table: one line per digest, then the totals. */
export function formatPlanTable(plan: RetentionPlan): string {
  const clip = (text: string) => (text.length > 40 ? `${text.slice(0, 39)}…` : text);
  const rows = plan.decisions.map((d) => [d.action, shortDigest(d.digest), d.tags.length > 0 ? clip(d.tags.join(',')) : '<none>', d.rule, d.reason]);
  const header = ['ACTION', 'DIGEST', 'TAGS', 'RULE', 'REASON'];
  const widths = header.slice(0, 4).map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 4 ? c.padEnd(widths[i] as number) : c)).join('  ');
  const out = [`repository ${plan.repository} · policy ${plan.policyFormat} · now ${plan.now}`, '', line(header), ...rows.map(line), ''];
  out.push(`${plan.expire.length} to expire, ${plan.keep.length} to keep; bytes freed ${humanBytes(plan.bytesFreed)}${plan.bytesFreedEstimated ? ' (estimate)' : ''}`);
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
  const retention = program.command('retention').description('plan (and later run) retention sweeps');
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
}
