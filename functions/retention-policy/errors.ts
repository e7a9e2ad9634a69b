// Typed errors of retention policy validation: a bad policy names the path and the bad value.

/** One problem in an input document. */
export interface InputIssue {
  /** Where in the document: `rules[1].selection.countNumber`, `images[3].digest`. */
  readonly path: string;
  readonly message: string;
  /** The offending value, when there is one. */
  readonly value?: unknown;
}

/** Base class of retention errors. */
export class RetentionError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RetentionError';
  }
}

/** Formats an issue as `path: message (got value)`. */
export function formatIssue(issue: InputIssue): string {
  const where = issue.path === '' ? '(top level)' : issue.path;
  const got = issue.value === undefined ? '' : ` (got ${preview(issue.value)})`;
  return `${where}: ${issue.message}${got}`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A policy that is not valid in the format it was read as; `issues` names each path. */
export class PolicyError extends RetentionError {
  constructor(
    readonly format: string,
    readonly issues: readonly InputIssue[],
    readonly source?: string,
  ) {
    super(
      `invalid ${format} retention policy${source ? ` in ${source}` : ''}: ${issues.map(formatIssue).join('; ')}`,
      'POLICY_INVALID',
    );
    this.name = 'PolicyError';
  }
}

/** Turns a zod-style issue path into `a.b[2].c`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Converts zod issues (with `reportInput`) to InputIssues. */
export function fromZodIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string; input?: unknown; keys?: readonly string[] }[],
): InputIssue[] {
  return issues.map((i) => ({
    path: formatPath(i.path),
    message: i.keys ? `${i.message.replace(/:.*$/, '')}: ${i.keys.join(', ')}` : i.message,
    value: i.keys ? undefined : i.input,
  }));
}
