// `regman quarantine list|show|release DIGEST`: digests a scan or signature gate failed; release is audited (the next failed gate quarantines again).
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { backendOptions, openPromotionBackend, type BackendFlags } from './promotion-backend.ts';
import { UsageError } from './run-cli.ts';

export function registerQuarantine(program: Command): void {
  const quarantine = program.command('quarantine').description('digests that failed a scan or signature gate: refused by promotion');
  backendOptions(quarantine.command('list').description('quarantined digests').option('--json', 'JSON: an array of records')).action(async (flags: BackendFlags & { json?: boolean }) => {
    const backend = await openPromotionBackend(flags);
    try {
      const list = await backend.store.listQuarantine();
      if (flags.json) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      else if (list.length === 0) process.stderr.write('nothing is quarantined\n');
      else for (const q of list) process.stdout.write(`${q.digest}  ${q.repository}  ${q.gate}  ${q.time}  ${q.summary}\n`);
    } finally {
      backend.close();
    }
  });
  backendOptions(quarantine.command('show').description('one quarantined digest').argument('<digest>').option('--json', 'JSON: the record')).action(async (digest: string, flags: BackendFlags & { json?: boolean }) => {
    const backend = await openPromotionBackend(flags);
    try {
      const q = await backend.store.getQuarantine(digest);
      if (!q) throw new UsageError(`${digest} is not quarantined`, 'regman quarantine list');
      process.stdout.write(flags.json ? JSON.stringify(q, null, 2) + '\n' : `${q.digest}\n  repository ${q.repository}\n  gate       ${q.gate}\n  since      ${q.time} (promotion ${q.executionId})\n  summary    ${q.summary}\n  reason     ${q.reason}\n`);
    } finally {
      backend.close();
    }
  });
  backendOptions(
    quarantine.command('release').description('release a digest (audited)').argument('<digest>').requiredOption('--reason <text>', 'why (audited)').option('--as <identity>', 'who (default cli:<os user>)').option('--json', 'JSON: { quarantine, audit }: the record removed and the audit record written'),
  ).action(async (digest: string, flags: BackendFlags & { reason: string; as?: string; json?: boolean }) => {
    if (!flags.reason.trim()) throw new UsageError('quarantine release needs --reason');
    const backend = await openPromotionBackend(flags);
    try {
      const q = await backend.store.getQuarantine(digest);
      if (!q) throw new UsageError(`${digest} is not quarantined`, 'regman quarantine list');
      const { actor, onBehalfOf } = await backend.actor(flags.as);
      await backend.store.deleteQuarantine(digest);
      const audit = await backend.audit.append({ actor, action: 'promote.quarantine-release', outcome: 'success', correlationId: randomUUID(), repository: q.repository, digest, details: { reason: flags.reason, gate: q.gate, summary: q.summary, ...(onBehalfOf ? { onBehalfOf } : {}) } });
      process.stdout.write(flags.json ? JSON.stringify({ quarantine: q, audit }, null, 2) + '\n' : `${digest}: released\n`);
    } finally {
      backend.close();
    }
  });
}
