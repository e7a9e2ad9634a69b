// `regman promotions list|show`: the promotion records (status, gates, approvers, digest, tags written).
import type { Command } from 'commander';
import type { PromotionRecord } from '../../functions/promotion/types.ts';
import { backendOptions, openPromotionBackend, type BackendFlags } from './promotion-backend.ts';
import { UsageError } from './run-cli.ts';

/** One record for people: status, image, gates, approvers, tags, error, and the steps. */
export function formatPromotion(r: PromotionRecord): string {
  const lines = [
    `${r.executionId}  ${r.status}`,
    `  image      ${r.repository}:${r.tag}${r.digest ? `@${r.digest}` : ''}`,
    `  edge       ${r.from} → ${r.to}   requested by ${r.requester} at ${r.requestedAt}${r.reason ? `  (${r.reason})` : ''}`,
    ...r.gates.map((g) => `  gate       ${g.gate}: ${g.passed ? 'passed' : 'FAILED'}  ${g.passed ? g.summary : (g.reason ?? g.summary)}`),
    ...(r.approvers.length ? [`  approvers  ${r.approvers.map((a) => `${a.identity} (${a.time})`).join(', ')}`] : []),
    ...(r.tagsWritten.length ? [`  tags       ${r.tagsWritten.join(', ')}`] : []),
    ...(r.error ? [`  error      ${r.error.code}: ${r.error.message}`] : []),
    ...r.steps.map((s) => `    ${s.time}  ${s.step.padEnd(17)} ${s.outcome}${s.message ? `  ${s.message}` : ''}`),
  ];
  return lines.join('\n');
}

export function registerPromotions(program: Command): void {
  const promotions = program.command('promotions').description('list and show promotions');
  backendOptions(
    promotions
      .command('list')
      .description('promotions, newest first')
      .option('--env <env>', 'only promotions into this environment')
      .option('--repository <name>', 'only this repository')
      .option('--json', 'JSON: an array of records'),
  ).action(async (flags: BackendFlags & { env?: string; repository?: string; json?: boolean }) => {
    const backend = await openPromotionBackend(flags);
    try {
      const list = await backend.store.listExecutions({ ...(flags.env ? { environment: flags.env } : {}), ...(flags.repository ? { repository: flags.repository } : {}) });
      if (flags.json) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      else if (list.length === 0) process.stderr.write(`no promotions in ${backend.where}\n`);
      else for (const r of list) process.stdout.write(`${r.executionId}  ${r.status.padEnd(20)} ${r.from} → ${r.to}  ${r.repository}:${r.tag}${r.digest ? `@${r.digest.slice(0, 19)}` : ''}  ${r.requestedAt}\n`);
    } finally {
      backend.close();
    }
  });
  backendOptions(
    promotions.command('show').description('one promotion: status, gates, approvers, digest, tags written, steps').argument('<id>', 'the execution id').option('--json', 'JSON: the record'),
  ).action(async (id: string, flags: BackendFlags & { json?: boolean }) => {
    const backend = await openPromotionBackend(flags);
    try {
      const record = await backend.store.getExecution(id);
      if (!record) throw new UsageError(`no promotion ${id} in ${backend.where}`, 'regman promotions list');
      process.stdout.write((flags.json ? JSON.stringify(record, null, 2) : formatPromotion(record)) + '\n');
    } finally {
      backend.close();
    }
  });
}
