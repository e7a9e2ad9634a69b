// `regman config validate [FILE]`: validates the configuration file and prints a summary, or every error (exit 2).
import type { Command } from 'commander';
import { ConfigError, formatConfigIssue, loadConfig, type RegmanConfig } from '../../functions/config/index.ts';
import { EXIT_USAGE, UsageError } from './run-cli.ts';

/** The file `config validate` reads when none is given. */
export function defaultConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.REGMAN_CONFIG || 'config/registries.yaml';
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('work with the configuration file');
  config
    .command('validate')
    .argument('[FILE]', 'the configuration file (default: $REGMAN_CONFIG, else config/registries.yaml)')
    .description('validate the configuration file: every error at once, exit 2 when invalid')
    .action(async (fileArg: string | undefined) => {
      const file = fileArg ?? defaultConfigFile();
      let config: RegmanConfig;
      try {
        config = await loadConfig(file);
      } catch (err) {
        if (err instanceof ConfigError) {
          for (const issue of err.errors) process.stderr.write(`${formatConfigIssue(issue)}\n`);
          const n = err.errors.length;
          process.stderr.write(`${file}: invalid — ${n} ${n === 1 ? 'error' : 'errors'}\n`);
          process.exitCode = EXIT_USAGE;
          return;
        }
        if (typeof (err as { code?: unknown }).code === 'string' && (err as { syscall?: unknown }).syscall !== undefined) {
          throw new UsageError(`cannot read config file ${file}: ${(err as Error).message}`, 'regman config validate path/to/registries.yaml');
        }
        throw err;
      }
      process.stdout.write(`${file}: valid — ${summary(config)}\n`);
    });
}

/** `5 registries, 3 environments, 2 replication rules, 2 promotion edges, 2 retention policies`. */
export function summary(config: RegmanConfig): string {
  return [
    count(Object.keys(config.registries).length, 'registry', 'registries'),
    count(Object.keys(config.environments).length, 'environment', 'environments'),
    count(config.replication.length, 'replication rule', 'replication rules'),
    count(config.promotion.length, 'promotion edge', 'promotion edges'),
    count(config.retention.length, 'retention policy', 'retention policies'),
  ].join(', ');
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
