// `regman hold list|set|release`: holds refuse promotions into an environment's repository until released (audited).
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { HoldRecord } from '../../functions/promotion/types.ts';
import { backendOptions, openPromotionBackend, type BackendFlags } from './promotion-backend.ts';
import { UsageError } from './run-cli.ts';

interface HoldFlags extends BackendFlags {
  readonly env: string;
  readonly repository: string;
  readonly reason?: string;
  readonly as?: string;
  readonly json?: boolean;
}

export function registerHold(program: Command): void {
  const hold = program.command('hold').description('hold a repository in an environment: promotions into it are refused until released');
  backendOptions(hold.command('list').description('the holds in place').option('--json', 'JSON: an array of holds')).action(async (flags: BackendFlags & { json?: boolean }) => {
    const backend = await openPromotionBackend(flags);
    try {
      const holds = await backend.store.listHolds();
      if (flags.json) process.stdout.write(JSON.stringify(holds, null, 2) + '\n');
      else if (holds.length === 0) process.stderr.write('no holds\n');
      else for (const h of holds) process.stdout.write(`${h.environment}  ${h.repository}  since ${h.time} by ${h.by}: ${h.reason}${h.digest ? `  (at ${h.digest})` : ''}\n`);
    } finally {
      backend.close();
    }
  });
  for (const verb of ['set', 'release'] as const) {
    backendOptions(
      hold
        .command(verb)
        .description(verb === 'set' ? 'set a hold' : 'release a hold')
        .requiredOption('--env <env>', 'environment')
        .requiredOption('--repository <name>', 'repository')
        .requiredOption('--reason <text>', 'why (audited)')
        .option('--as <identity>', 'who (default cli:<os user>; on AWS the caller\'s IAM principal acts, for this identity)')
        .option('--json', `JSON: { hold, audit }: the hold ${verb === 'set' ? 'written' : 'removed'} and the audit record written`),
    ).action(async (flags: HoldFlags) => {
      if (!flags.reason?.trim()) throw new UsageError(`hold ${verb} needs --reason`);
      const backend = await openPromotionBackend(flags);
      try {
        const { actor, onBehalfOf } = await backend.actor(flags.as);
        let held: HoldRecord | undefined;
        if (verb === 'set') {
          held = { environment: flags.env, repository: flags.repository, reason: flags.reason, by: actor, time: new Date().toISOString() };
          await backend.store.putHold(held);
        } else {
          held = await backend.store.getHold(flags.env, flags.repository);
          if (!held) throw new UsageError(`${flags.env} holds no ${flags.repository}`, 'regman hold list');
          await backend.store.deleteHold(flags.env, flags.repository);
        }
        const audit = await backend.audit.append({ actor, action: `promote.hold-${verb}`, outcome: 'success', correlationId: randomUUID(), repository: flags.repository, details: { environment: flags.env, reason: flags.reason, ...(onBehalfOf ? { onBehalfOf } : {}) } });
        if (flags.json) process.stdout.write(JSON.stringify({ hold: held, audit }, null, 2) + '\n');
        else process.stdout.write(`${flags.env} ${flags.repository}: hold ${verb === 'set' ? 'set' : 'released'}\n`);
      } finally {
        backend.close();
      }
    });
  }
}
