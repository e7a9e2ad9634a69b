// `regman promote`: starts a promotion of one digest (the tag resolved once) from one environment to the next.
import type { Command } from 'commander';
import type { PromotionRecord } from '../../functions/promotion/types.ts';
import { backendOptions, openPromotionBackend, type BackendFlags, type PromotionBackend } from './promotion-backend.ts';
import { UsageError } from './run-cli.ts';

interface PromoteFlags extends BackendFlags {
  readonly repository: string;
  readonly tag: string;
  readonly from: string;
  readonly to: string;
  readonly reason?: string;
  readonly requestedBy?: string;
  readonly overrideFreeze?: boolean;
  readonly wait?: boolean;
  readonly json?: boolean;
}

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'REJECTED', 'TIMED_OUT', 'ROLLED_BACK']);

/** Follows a promotion's record until it ends, printing each new step to stderr. */
export async function followPromotion(backend: PromotionBackend, executionId: string, print: (line: string) => void, pollMs = 300): Promise<PromotionRecord> {
  let seen = 0;
  for (;;) {
    const record = await backend.store.getExecution(executionId);
    if (record) {
      for (const s of record.steps.slice(seen)) print(`  ${s.time}  ${s.step.padEnd(17)} ${s.outcome}${s.message ? `  ${s.message}` : ''}`);
      seen = record.steps.length;
      if (FINAL.has(record.status)) return record;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export function registerPromote(program: Command): void {
  backendOptions(
    program
      .command('promote')
      .description('promote the digest a tag names now from one environment to the next, through its gates and approval')
      .requiredOption('--repository <name>', 'repository, e.g. team/app')
      .requiredOption('--tag <tag>', 'the tag to promote (resolved once to a digest)')
      .requiredOption('--from <env>', 'source environment')
      .requiredOption('--to <env>', 'target environment')
      .option('--reason <text>', 'why (recorded; required with --override-freeze)')
      .option('--requested-by <id>', 'who asks (default cli:<os user>; on AWS: the identity the caller acts for)')
      .option('--override-freeze', 'promote inside a freeze window of the target (needs --reason; audited)')
      .option('--wait', 'follow the promotion step by step until it ends')
      .option('--json', 'print {"executionId","status","digest"}'),
  ).action(async (flags: PromoteFlags) => {
    if (flags.overrideFreeze && !flags.reason?.trim()) throw new UsageError('--override-freeze needs --reason', '--override-freeze --reason "hotfix for INC-123"');
    const backend = await openPromotionBackend(flags);
    try {
      const started = await backend.start({
        repository: flags.repository,
        tag: flags.tag,
        from: flags.from,
        to: flags.to,
        ...(flags.requestedBy ? { requestedBy: flags.requestedBy } : {}),
        ...(flags.reason ? { reason: flags.reason } : {}),
        ...(flags.overrideFreeze ? { overrideFreeze: true } : {}),
      });
      let status = started.status;
      let digest = started.digest;
      let error = started.error;
      if (flags.wait) {
        if (!flags.json) process.stderr.write(`promotion ${started.executionId}: following (Ctrl-C stops following, not the promotion)\n`);
        const record = await followPromotion(backend, started.executionId, (line) => {
          if (!flags.json) process.stderr.write(line + '\n');
        });
        status = record.status;
        digest = record.digest;
        error = record.error;
      }
      if (flags.json) {
        process.stdout.write(JSON.stringify({ executionId: started.executionId, status, digest: digest ?? null, ...(error ? { error } : {}) }) + '\n');
      } else {
        process.stdout.write(`${started.executionId}  ${status}${digest ? `  ${digest}` : ''}\n`);
        if (error) process.stderr.write(`${error.code}: ${error.message}\n`);
        else if (!flags.wait && !FINAL.has(status)) process.stderr.write(`follow it with: regman promotions show ${started.executionId}${flags.stateDir ? ` --state-dir ${flags.stateDir}` : ''}\n`);
      }
      if (['FAILED', 'REJECTED', 'TIMED_OUT', 'ROLLED_BACK'].includes(status)) process.exitCode = 1;
    } finally {
      backend.close();
    }
  });
}
