// `regman registries list`: every configured registry, its kind and host, and whether it answers with its credentials.
import type { Command } from 'commander';
import type { RegistryAdapter } from '../../functions/registries/adapter.ts';
import { defaultIo, formatTable, loadRegistries, positiveInt, withConfigOption, type RegistryCliIo } from './load-adapters.ts';

export interface RegistryStatus {
  readonly name: string;
  readonly kind: string;
  readonly host: string;
  /** True when GET /v2/ answered and the credentials were accepted. */
  readonly ok: boolean;
  readonly error?: string;
  readonly seconds: number;
}

/** Pings one adapter, giving up after `timeoutMs` (a registry that never answers must not hang the listing). */
export async function checkRegistry(adapter: RegistryAdapter, timeoutMs: number): Promise<RegistryStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  const base = { name: adapter.name, kind: adapter.kind, host: adapter.host };
  try {
    await Promise.race([adapter.ping(), timeout]);
    return { ...base, ok: true, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    return { ...base, ok: false, error: err instanceof Error ? err.message : String(err), seconds: (performance.now() - started) / 1000 };
  } finally {
    clearTimeout(timer);
  }
}

interface ListOptions {
  readonly config?: string;
  readonly json?: boolean;
  readonly timeout?: string;
}

/** Runs `registries list`; throws (exit 1) after printing when any registry did not answer. */
export async function runRegistriesList(opts: ListOptions, io: RegistryCliIo): Promise<RegistryStatus[]> {
  const timeoutSeconds = positiveInt(opts.timeout, '--timeout', 600) ?? 20;
  const loaded = await loadRegistries(opts.config, io);
  try {
    const statuses = await Promise.all([...loaded.adapters.values()].map((a) => checkRegistry(a, timeoutSeconds * 1000)));
    if (opts.json) {
      io.stdout(JSON.stringify(statuses, null, 2));
    } else {
      io.stdout(
        formatTable(
          ['NAME', 'KIND', 'HOST', 'STATUS'],
          statuses.map((s) => [s.name, s.kind, s.host, s.ok ? 'ok' : `FAILED: ${(s.error ?? '').split('\n')[0]}`]),
        ),
      );
    }
    const failed = statuses.filter((s) => !s.ok);
    if (failed.length > 0) {
      throw new Error(`${failed.length} of ${statuses.length} registries did not answer with their credentials accepted: ${failed.map((s) => s.name).join(', ')}`);
    }
    return statuses;
  } finally {
    loaded.close();
  }
}

/**
 * Adds `regman registries list`.
 *
 * @example regman registries list --config config/registries.yaml --json
 */
export function registerRegistries(program: Command, io: RegistryCliIo = defaultIo()): void {
  const registries = program.command('registries').description('the configured registries');
  withConfigOption(
    registries
      .command('list')
      .description('list the configured registries (kind, host) and check that each answers with its credentials accepted, in parallel; exit 1 if any does not'),
  )
    .option('--json', 'print the result as JSON on stdout')
    .option('--timeout <seconds>', 'give up on a registry after this long (default 20)')
    .action(async (opts: ListOptions) => {
      await runRegistriesList(opts, io);
    });
}
