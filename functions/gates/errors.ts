// Typed errors of the gates: a gate that could not decide (as opposed to an image that did not pass).
export type GateErrorCode =
  | 'REPORT_MALFORMED' // a scan report that is not SARIF 2.1 or Trivy JSON we can read
  | 'SCAN_TIMEOUT' // ECR kept the scan pending past the configured timeout
  | 'SCAN_UNAVAILABLE' // ECR API failed or throttled
  | 'KEY_INVALID' // a configured public key that is not an ECDSA P-256 PEM
  | 'CONFIG_INVALID'; // a gate config the runner cannot use (e.g. lambda without an invoker)

/** A gate error: `code`, `retryable` and `cause`, with a message that says what to do. */
export class GateError extends Error {
  readonly code: GateErrorCode;
  readonly retryable: boolean;

  constructor(message: string, options: { code: GateErrorCode; retryable?: boolean; cause?: unknown }) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'GateError';
    this.code = options.code;
    this.retryable = options.retryable ?? false;
  }
}
