// `regman approve ID`: approve a promotion waiting for approval (the minimal requester: counts N-of-M, refuses the requester).
import type { Command } from 'commander';
import { backendOptions, defaultIdentity, openPromotionBackend, type BackendFlags } from './promotion-backend.ts';

export function registerApprove(program: Command): void {
  backendOptions(
    program
      .command('approve')
      .description('approve a promotion waiting for approval (the minimal requester: counts N-of-M, refuses the requester)')
      .argument('<id>', 'the promotion (execution) id')
      .option('--as <identity>', 'who decides (default cli:<os user>); must be one of the edge\'s approvers')
      .option('--reason <text>', 'a comment')
      .option('--json', 'JSON: { outcome, approvals, required }'),
  ).action(async (id: string, flags: BackendFlags & { as?: string; reason?: string; json?: boolean }) => {
    const backend = await openPromotionBackend(flags);
    try {
      const result = await backend.decide(id, flags.as ?? defaultIdentity(), true, flags.reason);
      process.stdout.write(flags.json ? JSON.stringify(result) + '\n' : `${id}: ${result.outcome} (${result.approvals} of ${result.required} approvals)\n`);
    } finally {
      backend.close();
    }
  });
}
