// Typed errors of the promotion workflow; `name` is what the state machine's Retry and Catch match.
export type PromotionErrorCode =
  | 'UNKNOWN_EDGE'
  | 'UNKNOWN_ENVIRONMENT'
  | 'TAG_NOT_FOUND'
  | 'QUARANTINED'
  | 'HELD'
  | 'FROZEN'
  | 'UPSTREAM_MISSING'
  | 'SOAKING'
  | 'BAD_INPUT'
  | 'GATE_FAILED'
  | 'SYNC_FAILED'
  | 'TAGGING_FAILED'
  | 'NOT_FOUND'
  | 'APPROVAL_REFUSED'
  | 'TRANSIENT';

/** Error names in the ASL: retryable errors are retried by the Task's Retry, the rest caught. */
export const PromotionErrorName = { retryable: 'RegmanRetryableError', refused: 'PromotionRefused', failed: 'PromotionFailed' } as const;

/** A refusal (bad input, policy) or a failure of a step; the message names the image and the reason. */
export class PromotionError extends Error {
  readonly code: PromotionErrorCode;
  readonly retryable: boolean;
  constructor(code: PromotionErrorCode, message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.name = this.retryable ? PromotionErrorName.retryable : REFUSALS.has(code) ? PromotionErrorName.refused : PromotionErrorName.failed;
  }
}

const REFUSALS = new Set<PromotionErrorCode>(['UNKNOWN_EDGE', 'UNKNOWN_ENVIRONMENT', 'TAG_NOT_FOUND', 'QUARANTINED', 'HELD', 'FROZEN', 'UPSTREAM_MISSING', 'SOAKING', 'BAD_INPUT']);

export function isPromotionError(err: unknown): err is PromotionError {
  return err instanceof PromotionError;
}

/**
 * The error as a Step Functions `Cause` carries it: the library (and Lambda) put `{ errorMessage }`
 * or the message itself there. Returns `{ code, message }` for the record.
 */
export function parseStepCause(cause: unknown): { code: string; message: string } {
  if (typeof cause !== 'string') return { code: 'UNKNOWN', message: 'the step failed without a cause' };
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: string; errorType?: string; code?: string; message?: string };
    const message = parsed.errorMessage ?? parsed.message ?? cause;
    const code = parsed.code ?? /^\[([A-Z_]+)\] /.exec(message)?.[1] ?? parsed.errorType ?? 'UNKNOWN';
    return { code, message: message.replace(/^\[[A-Z_]+\] /, '') };
  } catch {
    const code = /^\[([A-Z_]+)\] /.exec(cause)?.[1] ?? 'UNKNOWN';
    return { code, message: cause.replace(/^\[[A-Z_]+\] /, '') };
  }
}
