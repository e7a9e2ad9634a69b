// `regman reject ID`: reject a promotion waiting for approval.
import type { Command } from 'commander';
import { backendOptions, defaultIdentity, openPromotionBackend, type BackendFlags } from './promotion-backend.ts';
import { UsageError } from './run-cli.ts';

export function registerReject(program: Command): void {
  backendOptions(
    program
      .command('reject')
      .description('reject a promotion waiting for approval')
      .argument('<id>', 'the promotion (execution) id')
      .option('--as <identity>', 'who decides (default cli:<os user>); must be one of the edge\'s approvers')
      .option('--reason <text>', 'why (required)')
      .option('--json', 'JSON: { outcome, approvals, required }'),
  ).action(async (id: string, flags: BackendFlags & { as?: string; reason?: string; json?: boolean }) => {
    if (!flags.reason?.trim()) throw new UsageError('reject needs --reason', 'regman reject ID --reason "fails the smoke test"');
    const backend = await openPromotionBackend(flags);
    try {
      const result = await backend.decide(id, flags.as ?? defaultIdentity(), false, flags.reason);
      process.stdout.write(flags.json ? JSON.stringify(result) + '\n' : `${id}: ${result.outcome} (${result.approvals} of ${result.required} approvals)\n`);
    } finally {
      backend.close();
    }
  });
}
