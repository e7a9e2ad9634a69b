// Typed errors of the audit log: a code the caller can branch on, whether a retry may help, and a cause.

export type AuditErrorCode =
  /** The record failed validation (missing actor, unknown outcome, bad time, ...). */
  | 'AUDIT_RECORD_INVALID'
  /** A query's filters or time bounds are invalid. */
  | 'AUDIT_QUERY_INVALID'
  /** Too many concurrent appenders on one chain partition: every attempt lost the conditional write. */
  | 'AUDIT_CONTENTION'
  /** The store failed (DynamoDB error, throttling after SDK retries). */
  | 'AUDIT_STORE'
  /** A signed anchor of the chain heads was edited, re-signed by another key, or cannot be read. */
  | 'AUDIT_ANCHOR_INVALID';

export interface AuditErrorOptions {
  readonly code: AuditErrorCode;
  readonly retryable?: boolean;
  readonly cause?: unknown;
  /** The chain partition concerned, when there is one. */
  readonly partition?: string;
}

/** Base class of every error the audit log throws. */
export class AuditError extends Error {
  readonly code: AuditErrorCode;
  readonly retryable: boolean;
  readonly partition?: string;

  constructor(message: string, options: AuditErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuditError';
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    if (options.partition !== undefined) this.partition = options.partition;
  }
}

export function isAuditError(err: unknown, code?: AuditErrorCode): err is AuditError {
  return err instanceof AuditError && (code === undefined || err.code === code);
}
