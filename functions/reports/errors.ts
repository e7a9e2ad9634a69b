// Typed errors of the reports: an unknown registry, an empty period, a bad price override, a bad argument.

export type ReportErrorCode =
  /** `--registry` names no configured registry. */
  | 'REPORT_UNKNOWN_REGISTRY'
  /** The period holds no audit record, so there is nothing to report. */
  | 'REPORT_EMPTY_PERIOD'
  /** A price override in the config is not a non-negative number. */
  | 'REPORT_BAD_PRICE'
  /** No evidence for the release asked for. */
  | 'REPORT_NOT_FOUND'
  /** A bad argument (format, period). */
  | 'REPORT_INVALID'
  /** The report does not fit in one console request (a Lambda's time limit): the message names the CLI command. */
  | 'REPORT_TOO_LARGE';

/** Codes that say the input (a flag, the config, the period asked for) selects or holds nothing usable. */
const BAD_INPUT: ReadonlySet<ReportErrorCode> = new Set<ReportErrorCode>(['REPORT_UNKNOWN_REGISTRY', 'REPORT_EMPTY_PERIOD', 'REPORT_BAD_PRICE', 'REPORT_INVALID']);

/** Base error of functions/reports/. */
export class ReportError extends Error {
  readonly code: ReportErrorCode;
  readonly retryable = false;

  /**
   * The CLI's exit code for it (bin/commands/run-cli.ts): 2 for bad input, an empty period included, so a
   * script tells "nothing in that period" from a failure or a broken chain (1); else 1.
   */
  get exitCode(): number {
    return BAD_INPUT.has(this.code) ? 2 : 1;
  }

  constructor(message: string, options: { readonly code: ReportErrorCode; readonly cause?: unknown }) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'ReportError';
    this.code = options.code;
  }
}
