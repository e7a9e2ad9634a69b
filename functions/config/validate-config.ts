// Validates a config file and collects every problem at once: YAML syntax, inline credentials, `${VAR}`
// references, the schema, cross-references and the retention rules. loadConfig reads the file and throws.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { RetentionPolicy } from '../retention-policy/types.ts';
import { ConfigError, type ConfigIssue } from './errors.ts';
import { crossCheck } from './cross-checks.ts';
import { stripInlineCredentials } from './inline-credentials.ts';
import { interpolate } from './interpolate.ts';
import { formatPath } from './path.ts';
import { resolvePolicyFiles, validateRetentionRules } from './retention-policies.ts';
import { configSchema } from './schema.ts';
import type { ParsedConfig, RegmanConfig, ValidateConfigOptions, ValidateConfigResult } from './types.ts';
import { parseYamlSource } from './yaml-source.ts';
import { expectedText, fromZodIssue, type RawIssue } from './zod-issues.ts';

/**
 * Validates the text of a config file. Pure: reads no file and no environment unless `options`
 * supply them. Every problem is returned, sorted by line; `config` is set only when there are none.
 *
 * @example
 * const { config, errors } = validateConfig(text, 'config/registries.yaml', { env: process.env });
 * if (errors.length) errors.forEach((e) => log(formatConfigIssue(e)));
 */
export function validateConfig(text: string, file: string, options: ValidateConfigOptions = {}): ValidateConfigResult {
  const source = parseYamlSource(text);
  if (source.syntaxErrors.length > 0) {
    return {
      errors: source.syntaxErrors.map((e) => ({ file, path: '', ...(e.line !== undefined ? { line: e.line } : {}), value: undefined, message: `YAML syntax error: ${e.message}`, expected: 'valid YAML' })),
    };
  }
  if (source.data === undefined || source.data === null) {
    return { errors: [{ file, path: '', line: 1, value: undefined, message: 'the file is empty', expected: 'a mapping with registries, environments, replication, promotion, retention' }] };
  }

  const raw: RawIssue[] = [];
  // A value whose ${VAR} is unset is reported once, for the variable, not again for its shape.
  const unresolved = new Set<string>();
  const stripped = stripInlineCredentials(source.data);
  raw.push(...stripped.issues);
  let data = stripped.data;
  if (options.env) {
    const interpolated = interpolate(data, options.env);
    data = interpolated.data;
    for (const p of interpolated.problems) {
      unresolved.add(formatPath(p.path));
      raw.push({ path: p.path, value: p.value, message: `environment variable ${p.variable} is not set`, expected: `${p.variable} to be set, or a default: \${${p.variable}:-value}` });
    }
  }
  if (options.readFile) {
    const resolved = resolvePolicyFiles(data, options.readFile);
    data = resolved.data;
    raw.push(...resolved.issues);
  }

  const parsed = configSchema.safeParse(data, { error: expectedText });
  const checks: RawIssue[] = [];
  if (!parsed.success) for (const issue of parsed.error.issues) checks.push(...fromZodIssue(issue, data));
  checks.push(...crossCheck(data));
  const retention = validateRetentionRules(data);
  checks.push(...retention.issues);
  raw.push(...checks.filter((issue) => !unresolved.has(formatPath(issue.path))));

  const errors = locate(raw, file, source.lineOf);
  if (errors.length > 0 || !parsed.success) return { errors };
  return { config: withPolicies(parsed.data, retention.policies), errors: [] };
}

/**
 * Reads, interpolates (from `process.env` unless `options.env` is given) and validates a config file.
 * ECR lifecycle policy files are read relative to it.
 *
 * @throws ConfigError with every problem in `.errors`; a file that cannot be read throws the fs error.
 * @example
 * const config = await loadConfig(process.env.REGMAN_CONFIG ?? 'config/registries.yaml');
 */
export async function loadConfig(file: string, options: ValidateConfigOptions = {}): Promise<RegmanConfig> {
  const text = await readFile(file, 'utf8');
  const base = dirname(resolve(file));
  const result = validateConfig(text, file, {
    env: options.env ?? process.env,
    readFile: options.readFile ?? ((path) => readFileSync(resolve(base, path), 'utf8')),
  });
  if (!result.config) throw new ConfigError(file, result.errors);
  return result.config;
}

function withPolicies(config: ParsedConfig, policies: ReadonlyMap<number, RetentionPolicy>): RegmanConfig {
  return {
    ...config,
    retention: config.retention.map((p, i) => {
      const policy = policies.get(i);
      // validateRetentionRules normalizes every policy that passed the schema.
      if (!policy) throw new Error(`internal: retention[${i}] was not normalized`);
      return { ...p, policy };
    }),
  };
}

/** Attaches file and line, drops exact duplicates, and sorts by line (then path) so the output reads top-down. */
function locate(raw: readonly RawIssue[], file: string, lineOf: (path: readonly PropertyKey[]) => number | undefined): ConfigIssue[] {
  const seen = new Set<string>();
  const out: ConfigIssue[] = [];
  for (const r of raw) {
    const path = formatPath(r.path);
    const key = `${path}\u0000${r.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const line = lineOf(r.path);
    out.push({ file, path, ...(line !== undefined ? { line } : {}), value: r.value, message: r.message, ...(r.expected ? { expected: r.expected } : {}) });
  }
  return out
    .map((issue, order) => ({ issue, order }))
    .sort((a, b) => (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || a.order - b.order)
    .map((x) => x.issue);
}
