// Test runner for `regman audit`: the audit command alone, as bin/regman.ts would run it (so the e2e test does not depend on its command list).
import { Command } from 'commander';
import { registerAudit } from '../../bin/commands/audit.ts';
import { runCli } from '../../bin/commands/run-cli.ts';

const program = new Command('regman').option('--debug', 'print stack traces on error');
registerAudit(program);
await runCli(program, process.argv);
