// Typed errors of replication: an event that cannot be processed (never retried) and a failed replication (retried, then DLQ).

export type ReplicationErrorCode = 'EVENT_INVALID' | 'REPLICATION_FAILED' | 'SOURCE_UNKNOWN' | 'RULE_UNKNOWN';

/** One problem of an event that does not parse: where (`detail.image-digest`) and what is wrong. */
export interface EventIssue {
  readonly path: string;
  readonly message: string;
}

export interface ReplicationErrorOptions {
  readonly code: ReplicationErrorCode;
  readonly retryable: boolean;
  readonly cause?: unknown;
}

/** Base class of replication errors: a code to branch on, whether a retry may help, and a cause. */
export class ReplicationError extends Error {
  readonly code: ReplicationErrorCode;
  readonly retryable: boolean;

  constructor(message: string, options: ReplicationErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReplicationError';
    this.code = options.code;
    this.retryable = options.retryable;
  }
}

/**
 * An event that is not a well-formed `ECR Image Action`. Never retryable: the same bytes will never
 * parse. Handlers log and audit it as `event.rejected` and return.
 */
export class ReplicationEventError extends ReplicationError {
  /** Path of the first bad field, e.g. `detail.image-digest` (`''` for the whole event). */
  readonly field: string;
  readonly issues: readonly EventIssue[];

  constructor(issues: readonly EventIssue[], options: { cause?: unknown } = {}) {
    const list = issues.map((i) => `${i.path === '' ? '(event)' : i.path}: ${i.message}`).join('; ');
    super(`Not a valid ECR Image Action event: ${list}`, { code: 'EVENT_INVALID', retryable: false, cause: options.cause });
    this.name = 'ReplicationEventError';
    this.issues = issues;
    this.field = issues[0]?.path ?? '';
  }
}

/**
 * Some targets failed: thrown after every target was tried and audited, so the platform retries the
 * event and, when retries run out, sends it to the DLQ. `outcome` is the full result (JSON).
 */
export class ReplicationFailedError extends ReplicationError {
  constructor(
    message: string,
    readonly failures: readonly { readonly target: string; readonly errorCode: string; readonly message: string }[],
    options: { cause?: unknown; outcome?: unknown } = {},
  ) {
    super(message, { code: 'REPLICATION_FAILED', retryable: true, cause: options.cause });
    this.name = 'ReplicationFailedError';
    this.outcome = options.outcome;
  }

  readonly outcome: unknown;
}

export function isReplicationError(err: unknown, code?: ReplicationErrorCode): err is ReplicationError {
  return err instanceof ReplicationError && (code === undefined || err.code === code);
}
