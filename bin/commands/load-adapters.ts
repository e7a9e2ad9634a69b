// Shared by the registry commands: the --config option, loading the config into adapters, picking one by name, output.
import type { Command } from 'commander';
import { ConfigError, loadConfig, type RegmanConfig } from '../../functions/config/index.ts';
import type { RegistryAdapter } from '../../functions/registries/adapter.ts';
import type { AdapterDeps } from '../../functions/registries/deps.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { readLiveEndpoints } from '../../local/endpoints.ts';
import { defaultConfigFile } from './config.ts';
import { UsageError } from './run-cli.ts';

/** Where a registry command reads and writes; tests pass their own. Results go to stdout, logs and progress to stderr. */
export interface RegistryCliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Extra adapter dependencies (tests: a SecretResolver, an endpoint override). */
  readonly deps?: AdapterDeps;
  /** Progress as a live bar or as lines. @default a bar on a TTY outside CI, else lines */
  readonly progress?: 'bar' | 'lines';
}

export function defaultIo(): RegistryCliIo {
  return {
    stdout: (t) => process.stdout.write(t + '\n'),
    stderr: (t) => process.stderr.write(t + '\n'),
    env: process.env,
  };
}

/** Adds `--config FILE` to a command. */
export function withConfigOption(command: Command): Command {
  return command.option('--config <file>', 'the configuration file (default: $REGMAN_CONFIG, else config/registries.yaml)');
}

export interface LoadedRegistries {
  readonly file: string;
  readonly config: RegmanConfig;
  readonly adapters: Map<string, RegistryAdapter>;
  /** Closes every adapter's sockets and timers. */
  close(): void;
}

/** What a running local stack (its endpoints.json) tells about the config it runs. */
export interface StackRegistries {
  /** The config file it runs: the default when neither --config nor REGMAN_CONFIG names one. */
  readonly configFile?: string;
  /**
   * The config's variables as the stack set them: `${REGMAN_LOCAL_DEV_URL:-http://127.0.0.1:5000}`
   * names the port it tried first, this the one it got.
   */
  readonly configEnv: Readonly<Record<string, string>>;
  /** Registry name → `http://127.0.0.1:PORT`. */
  readonly registries: Readonly<Record<string, string>>;
}

/**
 * Reads and validates the config, then builds an adapter per registry (nothing is contacted yet).
 * With `stack`, the config is interpolated with the variables the local stack set, so its
 * registries are reached where they run. An invalid or unreadable file is a UsageError (exit 2)
 * carrying every config error.
 */
export async function loadRegistries(configFile: string | undefined, io: RegistryCliIo, stack?: StackRegistries): Promise<LoadedRegistries> {
  const file = configFile ?? (io.env.REGMAN_CONFIG || stack?.configFile || defaultConfigFile(io.env));
  let config: RegmanConfig;
  try {
    config = await loadConfig(file, { env: { ...io.env, ...stack?.configEnv } });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message, `regman config validate ${file}`);
    if (typeof (err as { code?: unknown }).code === 'string' && (err as { syscall?: unknown }).syscall !== undefined) {
      throw new UsageError(`cannot read config file ${file}: ${(err as Error).message}`, '--config path/to/registries.yaml, or set REGMAN_CONFIG');
    }
    throw err;
  }
  const adapters = createAdapters(config, { env: io.env, ...io.deps });
  return { file, config, adapters, close: () => closeAdapters(adapters.values()) };
}

/**
 * The local stack running on --state-dir (default .state), for the commands that read its registries
 * (report costs|usage, lineage); undefined with --table (a deployed stack) or when none runs there.
 */
export async function runningStackOf(flags: { readonly stateDir?: string; readonly table?: string }): Promise<StackRegistries | undefined> {
  if (flags.table !== undefined) return undefined;
  const e = await readLiveEndpoints(flags.stateDir ?? '.state');
  return e ? { registries: e.registries, configEnv: e.configEnv ?? {}, ...(e.configFile ? { configFile: e.configFile } : {}) } : undefined;
}

/** The adapter named `name`, or a UsageError listing the configured names. */
export function pickAdapter(loaded: LoadedRegistries, name: string | undefined, flag: string): RegistryAdapter {
  const names = [...loaded.adapters.keys()];
  if (name === undefined || name === '') throw new UsageError(`${flag} is required (configured registries: ${names.join(', ')})`);
  const adapter = loaded.adapters.get(name);
  if (adapter === undefined) {
    throw new UsageError(`${flag} "${name}" names no registry in ${loaded.file} (configured: ${names.join(', ') || 'none'})`, `${flag} ${names[0] ?? 'NAME'}`);
  }
  return adapter;
}

/** Lays rows out in columns: a header row, then the data, columns padded to their widest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** `sha256:abcdef…` → `abcdef012345` (12 hex digits, as docker shows). */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Parses a positive integer option; a UsageError names the flag otherwise. */
export function positiveInt(value: string | undefined, flag: string, max = 64): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be an integer from 1 to ${max}, got "${value}"`);
  return n;
}
