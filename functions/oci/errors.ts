// Typed errors of the OCI client: a code the caller can branch on, whether a retry may help, and a cause.
import { redact } from './redact.ts';

export type OciErrorCode =
  | 'INVALID_REFERENCE'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'NOT_FOUND'
  | 'MANIFEST_UNKNOWN'
  | 'BLOB_UNKNOWN'
  | 'NAME_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'UNSUPPORTED_MANIFEST'
  | 'MANIFEST_TOO_LARGE'
  | 'DIGEST_MISMATCH'
  | 'SIZE_MISMATCH'
  | 'TOO_MANY_REQUESTS'
  | 'UNAVAILABLE'
  | 'NETWORK'
  | 'PROTOCOL'
  | 'UNSUPPORTED'
  | 'COPY_INCOMPLETE';

export interface OciErrorOptions {
  readonly code: OciErrorCode;
  readonly retryable?: boolean;
  readonly cause?: unknown;
  /** HTTP status, when the error came from a response. */
  readonly status?: number;
  /** Registry host the error concerns. */
  readonly registry?: string;
  /** Seconds the server asked us to wait (Retry-After). */
  readonly retryAfterSeconds?: number;
}

/** Base class of every error the OCI client throws. Its message is always redacted (redact.ts). */
export class OciError extends Error {
  readonly code: OciErrorCode;
  readonly retryable: boolean;
  readonly status?: number;
  readonly registry?: string;
  readonly retryAfterSeconds?: number;

  constructor(message: string, opts: OciErrorOptions) {
    super(redact(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'OciError';
    this.code = opts.code;
    this.retryable = opts.retryable ?? false;
    if (opts.status !== undefined) this.status = opts.status;
    if (opts.registry !== undefined) this.registry = opts.registry;
    if (opts.retryAfterSeconds !== undefined) this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

export function isOciError(err: unknown, code?: OciErrorCode): err is OciError {
  return err instanceof OciError && (code === undefined || err.code === code);
}

/**
 * True when the registry says the thing is not there: an unknown manifest, a plain 404, or an unknown
 * repository (distribution answers NAME_UNKNOWN for a repository with no tags, or none at all).
 */
export function isNotFoundError(err: unknown): boolean {
  return isOciError(err, 'MANIFEST_UNKNOWN') || isOciError(err, 'NOT_FOUND') || isOciError(err, 'NAME_UNKNOWN');
}
