// Errors of the large-image steps: the retry class is the error NAME (what Step Functions matches), the code leads the message.
import { isRetryable } from '../../oci/copy-blob.ts';

/** Error names the ASL's Retry and Catch match on (Lambda reports `error.name` as the error type). */
export const LargeImageErrorName = {
  /** Retried with backoff by the state machine. */
  retryable: 'RegmanRetryableError',
  /** Not retried: caught, recorded as a failure. */
  fatal: 'RegmanFatalError',
} as const;

export type LargeImageErrorCode = 'PLAN_TOO_LARGE' | 'PLATFORM_SUBSET_UNSUPPORTED' | 'BLOBS_MISSING' | 'REGISTRY_UNKNOWN' | 'STATE_INVALID' | 'PUBLISH_FAILED' | 'COPY_FAILED' | (string & {});

/**
 * A failed step. The message starts with `[CODE]` because Step Functions keeps only the error name and
 * the message (the Cause) across a Catch: RecordFailure reads the code back from there.
 */
export class LargeImageError extends Error {
  readonly code: LargeImageErrorCode;
  readonly retryable: boolean;

  constructor(code: LargeImageErrorCode, message: string, options: { retryable: boolean; cause?: unknown }) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = options.retryable ? LargeImageErrorName.retryable : LargeImageErrorName.fatal;
    this.code = code;
    this.retryable = options.retryable;
  }
}

/** Any error thrown by a step, as a LargeImageError whose name says whether Step Functions should retry. */
export function toLargeImageError(err: unknown, code: LargeImageErrorCode): LargeImageError {
  if (err instanceof LargeImageError) return err;
  const inner = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new LargeImageError(typeof inner === 'string' && inner !== '' ? inner : code, message, { retryable: isRetryable(err), cause: err });
}

/** `{ code, message }` of a Catch's Cause: the Lambda error JSON in AWS, the plain message locally. */
export function failureDetails(failure: { readonly Error: string; readonly Cause?: string }): { code: string; message: string } {
  let message = failure.Cause ?? failure.Error;
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // Not JSON: the message itself (aws-local-stepfunctions, States.* errors).
  }
  const m = /^\[([A-Z][A-Z0-9_]*)\]\s*/.exec(message);
  return m ? { code: m[1] as string, message: message.slice(m[0].length) } : { code: failure.Error, message };
}
