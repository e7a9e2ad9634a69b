#!/usr/bin/env node
// regman: the registry-manager CLI. Each command lives in bin/commands/ and is a thin shell over the library.
import { Command } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { runCli } from './commands/run-cli.ts';
import { COMMAND_SUMMARIES, commandsToLoad } from './commands/command-summaries.ts';

type Register = (program: Command) => void;

// The AWS SDK warns on every start under Node 20 that its 2027 releases will need Node 22. regman
// supports Node 20 locally (its Lambdas run Node 22), so the notice is noise on the CLI's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Commands load lazily: `regman copy` should not pay for parsing the config schema or the retention
 * planner at start-up (a no-op re-copy takes a fraction of a second, so start-up time shows).
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  copy: async () => (await import('./commands/copy.ts')).registerCopy,
  attach: async () => (await import('./commands/attach.ts')).registerAttach,
  config: async () => (await import('./commands/config.ts')).registerConfig,
  retention: async () => (await import('./commands/retention.ts')).registerRetention,
  local: async () => (await import('./commands/local.ts')).registerLocal,
  registries: async () => (await import('./commands/registries.ts')).registerRegistries,
  repos: async () => (await import('./commands/repos.ts')).registerRepos,
  images: async () => (await import('./commands/images.ts')).registerImages,
  sync: async () => (await import('./commands/sync.ts')).registerSync,
  audit: async () => (await import('./commands/audit.ts')).registerAudit,
  promote: async () => (await import('./commands/promote.ts')).registerPromote,
  promotions: async () => (await import('./commands/promotions.ts')).registerPromotions,
  rollback: async () => (await import('./commands/rollback.ts')).registerRollback,
  hold: async () => (await import('./commands/hold.ts')).registerHold,
  quarantine: async () => (await import('./commands/quarantine.ts')).registerQuarantine,
  report: async () => (await import('./commands/report.ts')).registerReport,
  lineage: async () => (await import('./commands/lineage.ts')).registerLineage,
  approvals: async () => (await import('./commands/approvals.ts')).registerApprovals,
  approve: async () => (await import('./commands/approvals.ts')).registerApprove,
  reject: async () => (await import('./commands/approvals.ts')).registerReject,
  demo: async () => (await import('./commands/demo.ts')).registerDemo,
  tag: async () => (await import('./commands/tag.ts')).registerTag,
  delete: async () => (await import('./commands/delete.ts')).registerDelete,
};

const program = new Command('regman')
  .description('registry-manager: replicate, promote, retain and audit container images')
  .version(pkg.version, '-V, --version', 'print the version')
  .option('--debug', 'print stack traces on error')
  .showHelpAfterError();

// The first word that is not an option names the command; `--version` and `--help` load none (stubs from the summaries).
const chosen = commandsToLoad(process.argv.slice(2), Object.keys(COMMANDS));
for (const name of Object.keys(COMMANDS)) {
  const summary = COMMAND_SUMMARIES[name];
  if (chosen.load.includes(name)) (await COMMANDS[name]!())(program);
  else if (chosen.stubs && summary) program.command(`${name} ${summary[0]}`.replace(' [options]', '').trim()).description(summary[1]);
}

await runCli(program, process.argv);
