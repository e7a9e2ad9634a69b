// The validated config as the JSON file each function bundle carries (regman.config.json, read via REGMAN_CONFIG_PATH).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegmanConfig } from '../functions/config/index.ts';

/** File name of the config inside a function bundle; the handler finds it through REGMAN_CONFIG_PATH. */
export const BUNDLED_CONFIG_FILE = 'regman.config.json';

/** Where Lambda unpacks a function's code (`LAMBDA_TASK_ROOT`). */
export const LAMBDA_TASK_ROOT = '/var/task';

/**
 * The config as bundled: the schema's output (defaults applied, `${VAR}` resolved at synth, lifecycle
 * policy files inlined), without the derived `retention[].policy`. Being plain schema output, it
 * re-validates unchanged: `validateConfig(text, path)` accepts it (JSON is YAML) and yields the same config.
 *
 * @example
 * writeFileSync('regman.config.json', bundledConfigJson(await loadConfig('config/registries.yaml')));
 */
export function bundledConfigJson(config: RegmanConfig): string {
  const { retention, ...rest } = config;
  const plain = { ...rest, retention: retention.map(({ policy: _policy, ...written }) => written) };
  return `${JSON.stringify(plain, null, 2)}\n`;
}

/**
 * Writes the bundled config JSON into `dir` (the app's cloud assembly folder at synth) and returns its
 * path, from which each function's afterBundling hook copies it into the bundle.
 */
export function writeBundledConfig(dir: string, name: string, config: RegmanConfig): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.${BUNDLED_CONFIG_FILE}`);
  writeFileSync(file, bundledConfigJson(config));
  return file;
}
