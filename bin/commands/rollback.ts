// `regman rollback --env E --repository R [--to DIGEST|TAG] --reason`: back to the previously promoted digest, and hold the repository there.
import type { Command } from 'commander';
import { backendOptions, openPromotionBackend, type BackendFlags } from './promotion-backend.ts';
import { UsageError } from './run-cli.ts';

export function registerRollback(program: Command): void {
  backendOptions(
    program
      .command('rollback')
      .description('move an environment back to the previous promoted digest (or --to one promoted there before) and set a hold')
      .requiredOption('--env <env>', 'environment')
      .requiredOption('--repository <name>', 'repository')
      .option('--to <digest|tag>', 'a digest or tag promoted into the environment before')
      .requiredOption('--reason <text>', 'why (audited; also the hold\'s reason)')
      .option('--requested-by <id>', 'who (default cli:<os user>; on AWS the caller\'s IAM principal acts, for this identity)')
      .option('--json', 'JSON: { from, to, tags, hold }'),
  ).action(async (flags: BackendFlags & { env: string; repository: string; to?: string; reason: string; requestedBy?: string; json?: boolean }) => {
    if (!flags.reason.trim()) throw new UsageError('rollback needs --reason');
    const backend = await openPromotionBackend(flags);
    try {
      const result = await backend.rollback({ env: flags.env, repository: flags.repository, ...(flags.to ? { to: flags.to } : {}), reason: flags.reason, ...(flags.requestedBy ? { requestedBy: flags.requestedBy } : {}) });
      if (flags.json) process.stdout.write(JSON.stringify(result) + '\n');
      else {
        process.stdout.write(`${flags.env} ${flags.repository}: rolled back to ${String(result.to)}\n`);
        process.stderr.write(`held: promotions into ${flags.env} ${flags.repository} are refused until: regman hold release --env ${flags.env} --repository ${flags.repository} --reason …\n`);
      }
    } finally {
      backend.close();
    }
  });
}
