// The seam between the promotion workflow and approvals: what RequestApproval hands over, and what comes back.
//
// The promotion state machine's RequestApproval state is a Lambda task with `.waitForTaskToken`
// (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token).
// Its handler adapts the state input to an `ApprovalRequest` and calls `ApprovalRequester.request`.
// The requester keeps the task token server-side and, once the decision is made, completes the task
// through a `TaskCompleter` (SendTaskSuccess with an `ApprovalDecision`, or SendTaskFailure).

/** One gate's result as the workflow recorded it; shown on the approval page. */
export interface GateSummary {
  readonly gate: 'scan' | 'signature' | 'tests';
  readonly passed: boolean;
  /** One line for people, e.g. `0 critical, 1 high (2 allowlisted)`. */
  readonly summary: string;
  /** Gate-specific details (counts per severity, key id, test URL, ...). JSON-serialisable. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What RequestApproval asks for. JSON-serialisable: it is the state's input. */
export interface ApprovalRequest {
  /** The promotion execution's id (its name); one approval request per execution. */
  readonly executionId: string;
  /** Step Functions task token. Never leaves the server: stored, never put in a link or a log. */
  readonly taskToken: string;
  readonly edge: { readonly from: string; readonly to: string };
  readonly repository: string;
  readonly tag: string;
  readonly digest: string;
  /** Who asked for the promotion (IAM principal, `cli:<user>`, `webhook:github:<sender>`). */
  readonly requester: string;
  /**
   * The principal that started the run when `requester` is the identity it acted for
   * (`regman promote --requested-by`): it is refused as an approver too.
   */
  readonly requestedVia?: string;
  /** Who pushed the image, when known: separation of duties refuses them as approvers. */
  readonly pusher?: string;
  readonly gates: readonly GateSummary[];
  /** What the target environment serves now, per registry, and the tags the promotion will move. */
  readonly target?: {
    readonly currentDigest?: string;
    readonly tags: readonly { readonly tag: string; readonly from?: string; readonly to: string }[];
  };
  /** ISO time after which the request is void (the state's timeout). */
  readonly expiresAt: string;
  readonly correlationId: string;
}

/** What SendTaskSuccess carries back into the workflow. */
export interface ApprovalDecision {
  readonly approved: true;
  readonly approvers: readonly { readonly identity: string; readonly time: string; readonly channel: string; readonly comment?: string }[];
}

/** Error name of SendTaskFailure on a rejection; the workflow's Catch maps it to `REJECTED`. */
export const APPROVAL_REJECTED = 'ApprovalRejected';

/** Completes the waiting task: SFN SendTaskSuccess/SendTaskFailure in AWS, the local stack's resolver locally. */
export interface TaskCompleter {
  succeed(taskToken: string, output: ApprovalDecision): Promise<void>;
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}

/** Starts an approval: stores the request and token, sends the links. Implemented in functions/approvals/. */
export interface ApprovalRequester {
  request(input: ApprovalRequest): Promise<{ readonly requestId: string }>;
  /**
   * The workflow ended the wait itself (timed out, failed): ends a still-pending request so its links stop
   * working at once, not only at their expiry. False when the request had already ended.
   */
  close?(requestId: string, state: 'EXPIRED' | 'ABORTED', reason?: string): Promise<boolean>;
}
