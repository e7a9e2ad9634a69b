// `--help` of every command says each default once and in words: no `(default: [])` for a repeatable
// option, no description that spells a default commander prints again.
import { Command, type Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerApprovals, registerApprove, registerReject } from '../../../bin/commands/approvals.ts';
import { registerAttach } from '../../../bin/commands/attach.ts';
import { registerAudit } from '../../../bin/commands/audit.ts';
import { registerConfig } from '../../../bin/commands/config.ts';
import { registerCopy } from '../../../bin/commands/copy.ts';
import { registerDelete } from '../../../bin/commands/delete.ts';
import { registerDemo } from '../../../bin/commands/demo.ts';
import { registerHold } from '../../../bin/commands/hold.ts';
import { registerImages } from '../../../bin/commands/images.ts';
import { registerLineage } from '../../../bin/commands/lineage.ts';
import { registerLocal } from '../../../bin/commands/local.ts';
import { registerPromote } from '../../../bin/commands/promote.ts';
import { registerPromotions } from '../../../bin/commands/promotions.ts';
import { registerQuarantine } from '../../../bin/commands/quarantine.ts';
import { registerRegistries } from '../../../bin/commands/registries.ts';
import { registerReport } from '../../../bin/commands/report.ts';
import { registerRepos } from '../../../bin/commands/repos.ts';
import { registerRetention } from '../../../bin/commands/retention.ts';
import { registerRollback } from '../../../bin/commands/rollback.ts';
import { registerSync } from '../../../bin/commands/sync.ts';
import { registerTag } from '../../../bin/commands/tag.ts';

const REGISTER = [
  registerCopy, registerAttach, registerConfig, registerRetention, registerLocal, registerRegistries, registerRepos, registerImages,
  registerSync, registerAudit, registerPromote, registerPromotions, registerRollback, registerHold, registerQuarantine, registerReport,
  registerLineage, registerApprovals, registerApprove, registerReject, registerDemo, registerTag, registerDelete,
];

function leaves(cmd: Command, path: string[] = []): { path: string; cmd: Command }[] {
  const here = [...path, cmd.name()];
  return cmd.commands.length === 0 ? [{ path: here.join(' '), cmd }] : cmd.commands.flatMap((c) => leaves(c, here));
}

describe('--help of every command', () => {
  const program = new Command('regman');
  for (const register of REGISTER) register(program);
  const commands = program.commands.flatMap((c) => leaves(c));

  it('covers the commands', () => {
    expect(commands.map((c) => c.path)).toEqual(expect.arrayContaining(['copy', 'sync', 'report compliance', 'report costs', 'report usage', 'report evidence', 'lineage', 'audit verify', 'tag', 'delete', 'demo']));
  });

  it.each(commands.map((c) => [c.path, c.cmd] as const))('%s: every default said once, none as []', (_path, cmd) => {
    const help = cmd.helpInformation().replace(/\s+/g, ' ');
    expect(help).not.toContain('(default: [])');
    const doubled = (cmd.options as readonly Option[]).filter((o) => o.defaultValue !== undefined && /\(default[ :]/.test(o.description));
    expect(doubled.map((o) => o.flags)).toEqual([]);
  });
});
