// `regman local`: the embedded local stack. It arrives with the replication issue; until then it says so.
import type { Command } from 'commander';

export function registerLocal(program: Command): void {
  program
    .command('local')
    .description('run the embedded local stack (registries, DynamoDB, state machine, approval page)')
    .action(() => {
      console.error(
        'regman local: not yet. The embedded local stack arrives with the replication issue.\n' +
          'Today you can copy images between registries:  regman copy --plain-http SRC DST',
      );
      process.exitCode = 1;
    });
}
