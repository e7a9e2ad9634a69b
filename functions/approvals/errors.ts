// Typed refusals and failures of approvals: one class per security check, each with its HTTP status, so the page, Slack and the CLI agree.

export type ApprovalErrorCode =
  /** The link's signature does not verify (tampered, forged or signed with another key). */
  | 'APPROVAL_BAD_SIGNATURE'
  /** The link's expiry has passed. */
  | 'APPROVAL_LINK_EXPIRED'
  /** The link was already used once (replay). */
  | 'APPROVAL_LINK_USED'
  /** No such link or request. */
  | 'APPROVAL_NOT_FOUND'
  /** The link, or the caller, is not an approver of this request. */
  | 'APPROVAL_WRONG_APPROVER'
  /** The link names another execution than the one acted on. */
  | 'APPROVAL_WRONG_EXECUTION'
  /** The form carried no CSRF token. */
  | 'APPROVAL_CSRF_MISSING'
  /** The form's CSRF token is not the one issued for this page view (or is stale). */
  | 'APPROVAL_CSRF_INVALID'
  /** The requester or the pusher of the image tried to approve (separation of duties). */
  | 'APPROVAL_SEPARATION_OF_DUTIES'
  /** The request has already ended: approved, rejected, expired or aborted. */
  | 'APPROVAL_ENDED'
  /** This approver has already decided this request (another channel or link). */
  | 'APPROVAL_ALREADY_DECIDED'
  /** A rejection without a reason, an unknown action, an oversized comment. */
  | 'APPROVAL_BAD_INPUT'
  /** A Slack request whose signature is missing, forged or older than five minutes. */
  | 'APPROVAL_SLACK_SIGNATURE'
  /** The store failed or lost every conditional-write race. */
  | 'APPROVAL_STORE'
  /** SendTaskSuccess/SendTaskFailure failed. */
  | 'APPROVAL_TASK_COMPLETION'
  /** A secret (HMAC key, Slack signing secret or bot token) could not be read from Secrets Manager. */
  | 'APPROVAL_SECRET';

export interface ApprovalErrorOptions {
  readonly cause?: unknown;
  readonly retryable?: boolean;
  /** The request concerned, when known (for the audit record). */
  readonly requestId?: string;
}

/** Base class of every approval error; `status` is the HTTP status the page or endpoint answers with. */
export class ApprovalError extends Error {
  readonly code: ApprovalErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly requestId?: string;

  constructor(code: ApprovalErrorCode, status: number, message: string, options: ApprovalErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApprovalError';
    this.code = code;
    this.status = status;
    this.retryable = options.retryable ?? false;
    if (options.requestId !== undefined) this.requestId = options.requestId;
  }
}

/** A refusal: a request that a security or state check turned down (audited as `rejected`). */
export class ApprovalRefusedError extends ApprovalError {
  override readonly name: string = 'ApprovalRefusedError';
}

export class BadSignatureError extends ApprovalRefusedError {
  override readonly name = 'BadSignatureError';
  constructor(options: ApprovalErrorOptions = {}) {
    super('APPROVAL_BAD_SIGNATURE', 403, 'This approval link is not valid: its signature does not match. Use the link exactly as it was sent to you.', options);
  }
}

export class LinkExpiredError extends ApprovalRefusedError {
  override readonly name = 'LinkExpiredError';
  constructor(
    readonly expiresAt: string,
    options: ApprovalErrorOptions = {},
  ) {
    super('APPROVAL_LINK_EXPIRED', 410, `This approval link expired at ${expiresAt}. Ask for the promotion to be started again.`, options);
  }
}

export class LinkUsedError extends ApprovalRefusedError {
  override readonly name = 'LinkUsedError';
  constructor(
    readonly usedAt: string,
    options: ApprovalErrorOptions = {},
  ) {
    super('APPROVAL_LINK_USED', 409, `This approval link was already used at ${usedAt}; a link works once.`, options);
  }
}

export class NotFoundError extends ApprovalRefusedError {
  override readonly name = 'NotFoundError';
  constructor(what: string, options: ApprovalErrorOptions = {}) {
    super('APPROVAL_NOT_FOUND', 404, `${what} was not found. Check the link or the request id (regman approvals list).`, options);
  }
}

export class WrongApproverError extends ApprovalRefusedError {
  override readonly name = 'WrongApproverError';
  constructor(identity: string, options: ApprovalErrorOptions = {}) {
    super('APPROVAL_WRONG_APPROVER', 403, `${identity} is not an approver of this request.`, options);
  }
}

export class WrongExecutionError extends ApprovalRefusedError {
  override readonly name = 'WrongExecutionError';
  constructor(options: ApprovalErrorOptions = {}) {
    super('APPROVAL_WRONG_EXECUTION', 403, 'This approval link belongs to another promotion.', options);
  }
}

export class CsrfMissingError extends ApprovalRefusedError {
  override readonly name = 'CsrfMissingError';
  constructor(options: ApprovalErrorOptions = {}) {
    super('APPROVAL_CSRF_MISSING', 403, 'The form carried no CSRF token: open the approval page and use its buttons.', options);
  }
}

export class CsrfInvalidError extends ApprovalRefusedError {
  override readonly name = 'CsrfInvalidError';
  constructor(options: ApprovalErrorOptions = {}) {
    super('APPROVAL_CSRF_INVALID', 403, 'The form\'s CSRF token is not valid for this page (or is stale): reload the approval page and try again.', options);
  }
}

export class SeparationOfDutiesError extends ApprovalRefusedError {
  override readonly name = 'SeparationOfDutiesError';
  constructor(
    identity: string,
    readonly role: 'requester' | 'pusher',
    options: ApprovalErrorOptions = {},
  ) {
    super(
      'APPROVAL_SEPARATION_OF_DUTIES',
      403,
      `${identity} ${role === 'requester' ? 'requested this promotion' : 'pushed this image'} and so cannot approve it (separation of duties). Another approver must decide.`,
      options,
    );
  }
}

export class RequestEndedError extends ApprovalRefusedError {
  override readonly name = 'RequestEndedError';
  constructor(
    readonly state: string,
    options: ApprovalErrorOptions = {},
  ) {
    super('APPROVAL_ENDED', 409, `This approval request has already ended (${state}); nothing more can be decided.`, options);
  }
}

export class AlreadyDecidedError extends ApprovalRefusedError {
  override readonly name = 'AlreadyDecidedError';
  constructor(identity: string, options: ApprovalErrorOptions = {}) {
    super('APPROVAL_ALREADY_DECIDED', 409, `${identity} has already decided this request; each approver counts once.`, options);
  }
}

export class BadInputError extends ApprovalRefusedError {
  override readonly name = 'BadInputError';
  constructor(message: string, options: ApprovalErrorOptions = {}) {
    super('APPROVAL_BAD_INPUT', 400, message, options);
  }
}

export class SlackSignatureError extends ApprovalRefusedError {
  override readonly name = 'SlackSignatureError';
  constructor(detail: string, options: ApprovalErrorOptions = {}) {
    super('APPROVAL_SLACK_SIGNATURE', 401, `Slack request refused: ${detail}.`, options);
  }
}

export function isApprovalError(err: unknown, code?: ApprovalErrorCode): err is ApprovalError {
  return err instanceof ApprovalError && (code === undefined || err.code === code);
}
