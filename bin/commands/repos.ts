// `regman repos list --registry R`: the repositories of one configured registry.
import type { Command } from 'commander';
import { defaultIo, loadRegistries, pickAdapter, withConfigOption, type RegistryCliIo } from './load-adapters.ts';

interface ListOptions {
  readonly config?: string;
  readonly registry?: string;
  readonly json?: boolean;
}

/** Runs `repos list`: one repository per line (sorted), or a JSON array. */
export async function runReposList(opts: ListOptions, io: RegistryCliIo): Promise<string[]> {
  const loaded = await loadRegistries(opts.config, io);
  try {
    const adapter = pickAdapter(loaded, opts.registry, '--registry');
    const repos = [...(await adapter.listRepositories())].sort();
    if (opts.json) io.stdout(JSON.stringify(repos, null, 2));
    else if (repos.length > 0) io.stdout(repos.join('\n'));
    else io.stderr(`registry "${adapter.name}" has no repositories`);
    return repos;
  } finally {
    loaded.close();
  }
}

/**
 * Adds `regman repos list`.
 *
 * @example regman repos list --registry harbor
 */
export function registerRepos(program: Command, io: RegistryCliIo = defaultIo()): void {
  const repos = program.command('repos').description('repositories of a configured registry');
  withConfigOption(repos.command('list').description('list the repositories of a registry'))
    .requiredOption('--registry <name>', 'a registry name from the configuration')
    .option('--json', 'print the result as JSON on stdout')
    .action(async (opts: ListOptions) => {
      await runReposList(opts, io);
    });
}
