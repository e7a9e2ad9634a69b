// Configuration errors: one ConfigIssue per problem (file, path, line, bad value, what was expected), all collected.

/** One problem in a configuration file. */
export interface ConfigIssue {
  /** The file as the caller named it, e.g. `config/registries.yaml`. */
  readonly file: string;
  /** Where in the document: `replication[0].targets[1].registry`; `''` for the whole document. */
  readonly path: string;
  /** 1-based line of the offending node (or of its nearest ancestor when the field is missing). */
  readonly line?: number;
  /** The offending value as written (after `${VAR}` interpolation); `undefined` when missing. Secrets are redacted. */
  readonly value: unknown;
  /** What is wrong, e.g. `"euwest" names no registry`. */
  readonly message: string;
  /** What would have been accepted, e.g. `one of: ecr-main, gar`. */
  readonly expected?: string;
}

/**
 * Formats an issue on one line:
 * `config/registries.yaml:42 replication[0].targets[1].registry: "euwest" names no registry (expected one of: ecr-main, gar)`.
 */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  const path = issue.path === '' ? '(top level)' : issue.path;
  const expected = issue.expected ? ` (expected ${issue.expected})` : '';
  return `${where} ${path}: ${issue.message}${expected}`;
}

/**
 * A configuration file that failed validation. `errors` holds every problem found, in document order.
 *
 * @example
 * try { await loadConfig('config/registries.yaml') }
 * catch (err) { if (err instanceof ConfigError) err.errors.forEach((e) => log(formatConfigIssue(e))) }
 */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;

  constructor(
    readonly file: string,
    readonly errors: readonly ConfigIssue[],
    options?: { cause?: unknown },
  ) {
    super(
      `${file}: ${errors.length} configuration ${errors.length === 1 ? 'error' : 'errors'}\n` +
        errors.map((e) => `  ${formatConfigIssue(e)}`).join('\n'),
      options,
    );
    this.name = 'ConfigError';
  }
}

/** Quotes a value for a message: strings in double quotes, everything else as compact JSON, long values cut. */
export function quote(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** `one of: a, b, c` with long lists shortened, or `none defined` for an empty list. */
export function oneOf(names: readonly string[], none = 'none defined'): string {
  if (names.length === 0) return none;
  const shown = names.length > 10 ? [...names.slice(0, 10), '…'] : names;
  return `one of: ${shown.join(', ')}`;
}
