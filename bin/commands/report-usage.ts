// `regman report usage`: storage over time, pushes and pulls, the most pulled images, replication lag and failures per target, the DLQ backlog.
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { parseTimeBound } from '../../functions/audit/time-bounds.ts';
import { createDynamoClients } from '../../functions/dynamo/client.ts';
import type { AuditLog } from '../../functions/audit/index.ts';
import { listDeadLetters } from '../../functions/replication/dlq.ts';
import { collectUsageReport } from '../../functions/reports/usage/collect.ts';
import type { UsageReport } from '../../functions/reports/usage/model.ts';
import { usageMarkdown, usageText } from '../../functions/reports/usage/render.ts';
import { DynamoPullStatsStore } from '../../functions/retention/pull-stats.ts';
import { renderUsagePage } from '../../functions/web/reports/usage-page.ts';
import { connectionOptions, openAuditLog, type ConnectionFlags } from './audit.ts';
import { defaultIo, loadRegistries, positiveInt, runningStackOf, withConfigOption } from './load-adapters.ts';
import { emit, parseFormat, type ReportFormat } from './report-output.ts';
import { UsageError } from './run-cli.ts';

interface UsageFlags extends ConnectionFlags {
  readonly config?: string;
  readonly registry: string[];
  readonly format?: string;
  readonly since: string;
  readonly until?: string;
  readonly top?: string;
  readonly pullStatsTable?: string;
  readonly dlq?: string;
  readonly out?: string;
}

/** `--format text` is terminal text (aligned columns), `md` Markdown tables, `json` the model, `html` the page. */
export function renderUsage(report: UsageReport, format: ReportFormat): string {
  return format === 'json' ? JSON.stringify(report, null, 2) : format === 'html' ? renderUsagePage(report) : format === 'md' ? usageMarkdown(report) : usageText(report);
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerReportUsage(report: Command): void {
  withConfigOption(
    connectionOptions(
      report
        .command('usage')
        .description('storage per repository over time, pushes and pulls per repository and image, the most pulled, replication lag (p50, p95) and failures per target, the DLQ backlog')
        .addOption(new Option('--registry <name>', 'only this registry (repeatable)').argParser(collect).default([], 'every registry'))
        .option('--since <time>', 'ISO time, date, or a duration before now', '30d')
        .option('--until <time>', 'exclusive upper bound (default now)')
        .option('--format <format>', 'text, json, md or html', 'text')
        .option('--top <n>', 'how many images the most-pulled list holds (default 10)')
        .option('--pull-stats-table <name>', 'the deployed pull statistics table (stack output PullStatsTableName): pulls of ECR registries')
        .option('--dlq <file>', 'a dead-letter JSON-lines file (default: the state folder\'s dlq.jsonl)')
        .option('--out <file>', 'write to a file instead of stdout'),
    ),
  ).action(async (flags: UsageFlags) => {
    const format = parseFormat(flags.format);
    const top = positiveInt(flags.top, '--top', 1000);
    const now = new Date();
    let since: string;
    let until: string;
    try {
      since = parseTimeBound(flags.since, now, 'since');
      until = parseTimeBound(flags.until ?? now.toISOString(), now, 'until');
    } catch (err) {
      throw new UsageError((err as Error).message, '--since 30d   or   --since 2026-01-01 --until 2026-02-01');
    }
    if (since >= until) throw new UsageError(`--since ${since} is not before --until ${until}`, '--since 30d');
    const io = defaultIo();
    const loaded = await loadRegistries(flags.config, io, await runningStackOf(flags));
    const pullClients = flags.pullStatsTable ? createDynamoClients({ ...(flags.region ? { region: flags.region } : {}), ...(flags.endpoint ? { endpoint: flags.endpoint } : {}) }) : undefined;
    let opened: { log: AuditLog; close(): Promise<void> } | undefined;
    try {
      try {
        opened = await openAuditLog(flags);
      } catch (err) {
        if (err instanceof UsageError) throw err;
        io.stderr(`usage: no audit log read (${(err as Error).message}); pushes, replication and storage history are empty`);
      }
      const dlqFile = flags.dlq ?? (flags.table === undefined ? join(flags.stateDir ?? '.state', 'dlq.jsonl') : undefined);
      const report = await collectUsageReport({
        config: loaded.config,
        adapters: loaded.adapters,
        since,
        until,
        registries: flags.registry,
        ...(opened ? { log: opened.log } : {}),
        ...(pullClients ? { pullStats: new DynamoPullStatsStore({ docClient: pullClients.docClient, tableName: flags.pullStatsTable! }) } : {}),
        ...(dlqFile ? { deadLetters: () => listDeadLetters(dlqFile) } : {}),
        ...(top !== undefined ? { top } : {}),
      });
      await emit(renderUsage(report, format), flags.out);
    } finally {
      await opened?.close();
      pullClients?.destroy();
      loaded.close();
    }
  });
}
