// `regman local`: runs the embedded local stack (registries, push events, replicate handler, DynamoDB, reconcile, retention) until Ctrl-C.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { RegistryMissingError } from '../../local/registry-process.ts';
import { startLocalStack } from '../../local/stack.ts';
import { UsageError } from './run-cli.ts';

interface LocalFlags {
  readonly config: string;
  readonly stateDir: string;
  readonly reconcileEvery?: string;
  readonly retentionEvery?: string;
}

function parseMinutes(value: string | undefined, flag = '--reconcile-every', meaning = '0 = only on demand'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`${flag} ${value} must be a number of minutes (${meaning})`, `${flag} 5`);
  return n;
}

export function registerLocal(program: Command): void {
  program
    .command('local')
    .description('run the embedded local stack: registries, push events → replicate handler, DynamoDB on disk, reconcile (docs/LOCAL.md)')
    .option('--config <file>', 'local config (registries must be kind: oci on http://127.0.0.1)', 'config/local.yaml')
    .option('--state-dir <dir>', 'state folder: registry storage, DynamoDB files, dlq.jsonl, endpoints.json', '.state')
    .option('--reconcile-every <minutes>', "run reconcile every N minutes (0: only on demand; default: the config's schedules.reconcile)")
    .option('--retention-every <minutes>', "run scheduled retention sweeps every N minutes (default: the config's schedules.retention, else nightly at 03:00 UTC; POST /retention?apply=1 deletes)")
    .action(async (flags: LocalFlags) => {
      const reconcileEveryMinutes = parseMinutes(flags.reconcileEvery);
      const retentionEveryMinutes = parseMinutes(flags.retentionEvery, '--retention-every', '0 = the config schedule');
      const log = (line: string): void => {
        process.stderr.write(`${line}\n`);
      };
      let stack;
      try {
        stack = await startLocalStack({
          configFile: resolve(flags.config),
          stateDir: resolve(flags.stateDir),
          log,
          ...(reconcileEveryMinutes !== undefined ? { reconcileEveryMinutes } : {}),
          ...(retentionEveryMinutes !== undefined ? { retentionEveryMinutes } : {}),
        });
      } catch (err) {
        if (err instanceof RegistryMissingError) throw new UsageError(err.message, err.hint);
        throw err;
      }
      const running = stack;
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (stopping) return;
          stopping = true;
          log(`\n${signal}: stopping the local stack...`);
          running
            .stop()
            .then(() => log('stopped cleanly'))
            .catch((err: unknown) => {
              log(`error while stopping: ${err instanceof Error ? err.message : String(err)}`);
              process.exitCode = 1;
            })
            .finally(done);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
