// Test runner for the promotion commands alone, as bin/regman.ts would run them.
import { Command } from 'commander';
import { registerHold } from '../../bin/commands/hold.ts';
import { registerPromote } from '../../bin/commands/promote.ts';
import { registerPromotions } from '../../bin/commands/promotions.ts';
import { registerQuarantine } from '../../bin/commands/quarantine.ts';
import { registerRollback } from '../../bin/commands/rollback.ts';
import { runCli } from '../../bin/commands/run-cli.ts';

const program = new Command('regman').option('--debug', 'print stack traces on error');
for (const register of [registerPromote, registerPromotions, registerRollback, registerHold, registerQuarantine]) register(program);
await runCli(program, process.argv);
