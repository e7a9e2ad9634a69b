// Loads the validated config JSON bundled next to a handler (written by the CDK app at synth) and validates it again.
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../config/errors.ts';
import type { RegmanConfig } from '../config/types.ts';
import { validateConfig } from '../config/validate-config.ts';

/**
 * Reads the config JSON and validates it with the same schema as `regman config validate` (JSON is
 * YAML). The CDK app may bundle the validated config (whose retention policies carry a normalized
 * `policy`), so that derived field is dropped before validating. A relative `path` is resolved
 * against `baseDir` (the handler's folder).
 *
 * @throws ConfigError listing every problem; the fs error when the file cannot be read.
 * @example
 * const config = await loadBundledConfig(process.env.REGMAN_CONFIG_PATH ?? 'regman.config.json', handlerDir);
 */
export async function loadBundledConfig(path: string, baseDir: string = process.cwd()): Promise<RegmanConfig> {
  const file = isAbsolute(path) ? path : resolve(baseDir, path);
  const text = await readFile(file, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, [{ file, path: '', value: undefined, message: `not valid JSON: ${(err as Error).message}`, expected: 'the config JSON written by the CDK app' }], { cause: err });
  }
  const result = validateConfig(JSON.stringify(withoutDerivedFields(data)), file);
  if (!result.config) throw new ConfigError(file, result.errors);
  return result.config;
}

function withoutDerivedFields(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || !Array.isArray((data as { retention?: unknown }).retention)) return data;
  const config = data as { retention: unknown[] };
  return {
    ...config,
    retention: config.retention.map((p) => {
      if (p === null || typeof p !== 'object') return p;
      const { policy: _policy, ...rest } = p as Record<string, unknown>;
      return rest;
    }),
  };
}
