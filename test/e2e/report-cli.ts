// Test runner for `regman report` and `regman lineage`: those commands alone, as bin/regman.ts would run them.
import { Command } from 'commander';
import { registerLineage } from '../../bin/commands/lineage.ts';
import { registerReport } from '../../bin/commands/report.ts';
import { runCli } from '../../bin/commands/run-cli.ts';

const program = new Command('regman').option('--debug', 'print stack traces on error');
registerReport(program);
registerLineage(program);
await runCli(program, process.argv);
