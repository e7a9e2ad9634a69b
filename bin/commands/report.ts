// `regman report compliance|evidence`: reports from the audit log of the deployed stack (--table) or the local stack (--state-dir).
import { Option, type Command } from 'commander';
import type { AuditLog, StoredAuditRecord } from '../../functions/audit/index.ts';
import type { ComplianceReport } from '../../functions/reports/compliance.ts';
import { complianceReport } from '../../functions/reports/compliance-query.ts';
import { ReportError } from '../../functions/reports/errors.ts';
import { jsonChunks } from '../../functions/reports/json-chunks.ts';
import { buildEvidence, environmentOf, isPromotionRunRecord, type ReleaseEvidence } from '../../functions/reports/promotion-records.ts';
import { complianceMarkdown, complianceText, evidenceMarkdown } from '../../functions/reports/render-compliance.ts';
import { parseTimeBound } from '../../functions/audit/time-bounds.ts';
import { renderCompliancePage } from '../../functions/web/reports/compliance-page.ts';
import { connectionOptions, openAuditLog, type ConnectionFlags } from './audit.ts';
import { UsageError } from './run-cli.ts';
import { defaultIo, loadRegistries, runningStackOf, withConfigOption } from './load-adapters.ts';
import { collectCostReport } from '../../functions/reports/costs/collect.ts';
import { costsMarkdown, costsText } from '../../functions/reports/costs/render.ts';
import type { CostReport } from '../../functions/reports/costs/report.ts';
import { renderCostsPage } from '../../functions/web/reports/costs-page.ts';
import { registerReportUsage } from './report-usage.ts';
import { emit, emitChunks, parseFormat, type ReportFormat } from './report-output.ts';

export { parseFormat, type ReportFormat } from './report-output.ts';

interface ComplianceFlags extends ConnectionFlags {
  readonly since?: string;
  readonly until?: string;
  readonly format?: string;
  readonly protected: string[];
  readonly out?: string;
}

/** Streams the period's records through the model, then verifies the chains (functions/reports/compliance-query.ts). */
export { complianceReport };

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
    if (!isPromotionRunRecord(r) || r.digest !== key.digest) continue;
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

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** The cost report as terminal text (`--format text`); `costsMarkdown` is `--format md` (functions/reports/costs/render.ts). */
export { costsMarkdown, costsText };

export function renderCosts(report: CostReport, format: ReportFormat): string {
  return format === 'json' ? JSON.stringify(report, null, 2) : format === 'html' ? renderCostsPage(report) : format === 'md' ? costsMarkdown(report) : costsText(report);
}

export function registerReport(program: Command): void {
  const report = program.command('report').description('reports from the audit log: compliance, release evidence, costs, usage');
  registerReportUsage(report);

  connectionOptions(
    report
      .command('compliance')
      .description('totals by action, actor and repository; promotions into protected environments with evidence; security events; the chain verification')
      .requiredOption('--since <time>', 'ISO time, date, or a duration before now (30d)')
      .option('--until <time>', 'exclusive upper bound (default now)')
      .option('--format <format>', 'text, json, md or html', 'text')
      .addOption(new Option('--protected <env>', 'a protected environment (repeatable)').argParser(collect).default([], 'prod'))
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
    const { log, close, parallel } = await openAuditLog(flags);
    try {
      const result = await complianceReport(log, { since, until, protectedEnvironments: flags.protected.length > 0 ? flags.protected : ['prod'], ...(parallel ? { parallel } : {}) });
      // JSON in pieces: a long period lists tens of thousands of promotions (functions/reports/json-chunks.ts).
      if (format === 'json') await emitChunks(jsonChunks(result as unknown as Record<string, unknown>), flags.out);
      else await emit(renderCompliance(result, format), flags.out);
      if (!result.chain.ok) process.exitCode = 1;
    } finally {
      await close();
    }
  });

  withConfigOption(
    connectionOptions(
      report
        .command('costs')
        .description('storage per registry and repository (shared blobs once), transfer per source → target pair, savings with the commands that realise them')
        .addOption(new Option('--registry <name>', 'only this registry (repeatable)').argParser(collect).default([], 'every registry'))
        .option('--format <format>', 'text, json, md or html', 'text')
        .option('--since <time>', 'transfer and reductions from the audit log since', '30d')
        .option('--unpulled-days <n>', 'images not pulled in this many days are a saving (default 90)')
        .option('--out <file>', 'write to a file instead of stdout'),
    ),
  ).action(async (flags: ConnectionFlags & { config?: string; registry: string[]; format?: string; since: string; unpulledDays?: string; out?: string }) => {
    const format = parseFormat(flags.format);
    const unpulledDays = flags.unpulledDays !== undefined ? Number(flags.unpulledDays) : undefined;
    if (unpulledDays !== undefined && (!Number.isInteger(unpulledDays) || unpulledDays < 1)) throw new UsageError(`--unpulled-days ${flags.unpulledDays} must be a positive integer`, '--unpulled-days 90');
    const now = new Date();
    let since: string;
    try {
      since = parseTimeBound(flags.since, now, 'since');
    } catch (err) {
      throw new UsageError((err as Error).message, '--since 30d   or   --since 2026-01-01');
    }
    const io = defaultIo();
    const loaded = await loadRegistries(flags.config, io, await runningStackOf(flags));
    try {
      let opened: { log: AuditLog; close(): Promise<void> } | undefined;
      try {
        opened = await openAuditLog(flags);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        io.stderr(`costs: no audit log read (${(err as Error).message}); transfer and reductions are empty`);
      }
      try {
        const result = await collectCostReport({
          config: loaded.config,
          adapters: loaded.adapters,
          registries: flags.registry,
          since,
          now,
          refuseEmptyPeriod: true,
          ...(opened ? { log: opened.log } : {}),
          ...(unpulledDays !== undefined ? { unpulledDays } : {}),
        });
        await emit(renderCosts(result, format), flags.out);
      } finally {
        await opened?.close();
      }
    } finally {
      loaded.close();
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
