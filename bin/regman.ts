#!/usr/bin/env node
// regman: the registry-manager CLI. Each command lives in bin/commands/ and is a thin shell over the library.
import { Command } from 'commander';
import { registerConfig } from './commands/config.ts';
import { registerCopy } from './commands/copy.ts';
import { registerRetention } from './commands/retention.ts';
import { registerLocal } from './commands/local.ts';
import { runCli } from './commands/run-cli.ts';

const program = new Command('regman')
  .description('registry-manager: replicate, promote, retain and audit container images')
  .option('--debug', 'print stack traces on error')
  .showHelpAfterError();

registerCopy(program);
registerConfig(program);
registerRetention(program);
registerLocal(program);

await runCli(program, process.argv);
