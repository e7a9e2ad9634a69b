// `regman report compliance|evidence`: reports from the audit log of the deployed stack (--table) or the local stack (--state-dir).
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { AuditLog, StoredAuditRecord } from '../../functions/audit/index.ts';
import { ComplianceAccumulator, type ComplianceReport } from '../../functions/reports/compliance.ts';
import { ReportError } from '../../functions/reports/errors.ts';
import { PROMOTE_PREFIX, buildEvidence, environmentOf, type ReleaseEvidence } from '../../functions/reports/promotion-records.ts';
import { complianceMarkdown, complianceText, evidenceMarkdown } from '../../functions/reports/render-compliance.ts';
import { parseTimeBound } from '../../functions/audit/time-bounds.ts';
import { renderCompliancePage } from '../../functions/web/reports/compliance-page.ts';
import { connectionOptions, openAuditLog, type ConnectionFlags } from './audit.ts';
import { UsageError } from './run-cli.ts';

export type ReportFormat = 'text' | 'json' | 'md' | 'html';
const FORMATS: readonly ReportFormat[] = ['text', 'json', 'md', 'html'];

export function parseFormat(value: string | undefined, allowed: readonly ReportFormat[] = FORMATS): ReportFormat {
  const format = (value ?? allowed[0]) as ReportFormat;
  if (!allowed.includes(format)) throw new UsageError(`--format ${value} is not one of ${allowed.join(', ')}`, `--format ${allowed[0]}`);
  return format;
}

interface ComplianceFlags extends ConnectionFlags {
  readonly since?: string;
  readonly until?: string;
  readonly format?: string;
  readonly protected: string[];
  readonly out?: string;
}

/** Streams the period's records through the model, then verifies the chains. */
export async function complianceReport(log: AuditLog, options: { readonly since: string; readonly until: string; readonly protectedEnvironments: readonly string[] }): Promise<ComplianceReport> {
  const now = new Date();
  const acc = new ComplianceAccumulator({ ...options, since: parseTimeBound(options.since, now, 'since'), until: parseTimeBound(options.until, now, 'until') });
  for await (const r of log.iterate({ since: options.since, until: options.until, order: 'oldest-first' })) acc.add(r);
  return acc.finish(await log.verify());
}

export function renderCompliance(report: ComplianceReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2);
    case 'md':
      return complianceMarkdown(report);
    case 'html':
      return renderCompliancePage(report);
    default:
      return complianceText(report);
  }
}

/** The newest promotion of `digest` of `repository` into `environment`, from the repository's history (byRepositoryTime index). */
export async function releaseEvidence(log: AuditLog, key: { readonly environment: string; readonly repository: string; readonly digest: string }): Promise<ReleaseEvidence> {
  const executions = new Map<string, StoredAuditRecord[]>();
  for await (const r of log.iterate({ repository: key.repository, order: 'oldest-first' })) {
    if (!r.action.startsWith(PROMOTE_PREFIX) || r.digest !== key.digest) continue;
    const list = executions.get(r.correlationId) ?? [];
    list.push(r);
    executions.set(r.correlationId, list);
  }
  const matching = [...executions.values()].filter((records) => records.some((r) => environmentOf(r) === key.environment));
  const newest = matching.at(-1);
  const evidence = newest ? buildEvidence(newest) : undefined;
  if (!evidence) {
    throw new ReportError(`No promotion of ${key.repository}@${key.digest} into ${key.environment} in the audit log (${executions.size} promotion run(s) of that digest in other environments)`, {
      code: 'REPORT_NOT_FOUND',
    });
  }
  return evidence;
}

async function emit(text: string, out: string | undefined): Promise<void> {
  if (out === undefined) process.stdout.write(text.endsWith('\n') ? text : text + '\n');
  else {
    await writeFile(out, text);
    process.stderr.write(`wrote ${out}\n`);
  }
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerReport(program: Command): void {
  const report = program.command('report').description('reports from the audit log: compliance, release evidence');

  connectionOptions(
    report
      .command('compliance')
      .description('totals by action, actor and repository; promotions into protected environments with evidence; security events; the chain verification')
      .requiredOption('--since <time>', 'ISO time, date, or a duration before now (30d)')
      .option('--until <time>', 'exclusive upper bound (default now)')
      .option('--format <format>', 'text, json, md or html', 'text')
      .option('--protected <env>', 'a protected environment (repeatable; default prod)', collect, [])
      .option('--out <file>', 'write to a file instead of stdout'),
  ).action(async (flags: ComplianceFlags) => {
    const format = parseFormat(flags.format);
    const now = new Date();
    let since: string;
    let until: string;
    try {
      since = parseTimeBound(flags.since as string, now, 'since');
      until = parseTimeBound(flags.until ?? now.toISOString(), now, 'until');
    } catch (err) {
      throw new UsageError((err as Error).message, '--since 30d   or   --since 2026-01-01 --until 2026-02-01');
    }
    const { log, close } = await openAuditLog(flags);
    try {
      const result = await complianceReport(log, { since, until, protectedEnvironments: flags.protected.length > 0 ? flags.protected : ['prod'] });
      await emit(renderCompliance(result, format), flags.out);
      if (!result.chain.ok) process.exitCode = 1;
    } finally {
      await close();
    }
  });

  connectionOptions(
    report
      .command('evidence')
      .description("one release's evidence (digest, requester, approvers and comments, scan, signature, test, execution id, the audit records) as JSON or Markdown")
      .requiredOption('--env <environment>', 'the environment promoted into, e.g. prod')
      .requiredOption('--repository <name>', 'the repository')
      .requiredOption('--digest <digest>', 'the promoted digest (sha256:…)')
      .option('--format <format>', 'json or md', 'json')
      .option('--out <file>', 'write to a file instead of stdout'),
  ).action(async (flags: ConnectionFlags & { env: string; repository: string; digest: string; format?: string; out?: string }) => {
    const format = parseFormat(flags.format, ['json', 'md']);
    if (!/^sha256:[0-9a-f]{64}$/.test(flags.digest)) throw new UsageError(`--digest ${flags.digest} is not a sha256 digest`, '--digest sha256:<64 hex>');
    const { log, close } = await openAuditLog(flags);
    try {
      const evidence = await releaseEvidence(log, { environment: flags.env, repository: flags.repository, digest: flags.digest });
      await emit(format === 'md' ? evidenceMarkdown(evidence) : JSON.stringify(evidence, null, 2), flags.out);
    } finally {
      await close();
    }
  });
}
