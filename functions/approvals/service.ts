// The approvals engine: starts a request (links, messages), renders it for a link, and takes decisions from the page, Slack and the CLI.
import type { AuditRecordInput } from '../audit/types.ts';
import {
  checkApprover,
  checkCsrf,
  checkLinkSignature,
  checkLinkUnused,
  checkNotDecided,
  checkNotExpired,
  checkPending,
  checkSeparationOfDuties,
  effectiveState,
} from './checks.ts';
import { evaluateApprovals, type ApprovalOutcome } from './decisions.ts';
import { deliverAll, type DeliveryOptions } from './notify/deliver.ts';
import { composeMessage } from './notify/compose.ts';
import type { SenderFor } from './notify/types.ts';
import {
  AlreadyDecidedError,
  ApprovalError,
  ApprovalRefusedError,
  BadInputError,
  BadSignatureError,
  LinkUsedError,
  NotFoundError,
  RequestEndedError,
} from './errors.ts';
import { APPROVAL_REJECTED, type ApprovalDecision, type ApprovalRequest, type ApprovalRequester, type TaskCompleter } from './requester.ts';
import { csrfToken, linkToken, parseLinkToken, randomId } from './signing.ts';
import type { ApprovalStore } from './store.ts';
import type { ApprovalDecisionRecord, ApprovalLink, ApprovalPolicy, ApprovalSnapshot, ApprovalState, DecisionChannel, StoredApprovalRequest } from './types.ts';

/** Longest comment kept with a decision. */
export const MAX_COMMENT_LENGTH = 2000;

/** Where audit records go (the AuditLog, or a test's array). */
export interface AuditSink {
  append(record: AuditRecordInput): Promise<unknown>;
}

export interface ApprovalServiceDeps {
  readonly store: ApprovalStore;
  /** The HMAC key (Secrets Manager in AWS, a key file locally); read once and kept. */
  readonly key: () => Promise<Uint8Array>;
  readonly completer: TaskCompleter;
  readonly audit: AuditSink;
  /** The edge's approval gate; throws when the edge has none. */
  readonly policyFor: (request: ApprovalRequest) => ApprovalPolicy;
  /** Base URL of the console, e.g. `http://127.0.0.1:4570`; links are `<base>/approvals/<execution>/<token>`. */
  readonly consoleUrl: string;
  readonly senderFor: SenderFor;
  readonly delivery?: DeliveryOptions;
  /** Console lines (links, delivery failures), to stderr. */
  readonly log?: (line: string) => void;
  readonly now?: () => Date;
}

/** What a GET of a link shows: the snapshot, the link's approver, and a CSRF token for this view. */
export interface LinkView {
  readonly snapshot: ApprovalSnapshot;
  readonly link: ApprovalLink;
  readonly outcome: ApprovalOutcome;
  readonly state: ApprovalState;
  readonly csrfToken: string;
  /** Where the page's forms post. */
  readonly formAction: string;
}

export interface DecisionInput {
  readonly action: 'approve' | 'reject';
  readonly comment?: string;
}

export interface DecisionResult {
  readonly requestId: string;
  readonly decision: ApprovalDecisionRecord;
  /** The request's state after the decision. */
  readonly state: ApprovalState;
  readonly outcome: ApprovalOutcome;
}

/** The path of a link on the console. */
export function linkPath(executionId: string, token: string): string {
  return `/approvals/${encodeURIComponent(executionId)}/${token}`;
}

/**
 * Implements the seam's `ApprovalRequester` and every way of deciding. Every refusal is an `ApprovalRefusedError`
 * subclass from `checks.ts`, audited as `approval.refused` before it is thrown.
 *
 * @example
 * const approvals = new ApprovalService({ store, key, completer, audit, policyFor, consoleUrl, senderFor });
 * await approvals.request(input);                       // from RequestApproval
 * const view = await approvals.viewLink(execution, token); // GET: changes nothing
 * await approvals.decideByLink(execution, token, csrf, { action: 'approve' });
 */
export class ApprovalService implements ApprovalRequester {
  private keyPromise: Promise<Uint8Array> | undefined;
  private readonly now: () => Date;
  private readonly log: (line: string) => void;

  constructor(private readonly deps: ApprovalServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.log = deps.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  private key(): Promise<Uint8Array> {
    // A failed read (a Secrets Manager blip at cold start) is not kept: the next request tries again.
    this.keyPromise ??= this.deps.key().catch((err: unknown) => {
      this.keyPromise = undefined;
      throw err;
    });
    return this.keyPromise;
  }

  /** Stores the request and its task token, makes one link per approver and sends each to its approver only. */
  async request(input: ApprovalRequest): Promise<{ readonly requestId: string }> {
    const policy = this.deps.policyFor(input);
    const requestId = input.executionId;
    const now = this.now().toISOString();
    const stored: StoredApprovalRequest = { ...input, requestId, policy, createdAt: now, state: 'PENDING' };
    if (!(await this.deps.store.putRequestIfAbsent(stored))) {
      // A retried RequestApproval state: same execution, new task token; the links already sent stay valid.
      if (await this.deps.store.updateTaskToken(requestId, input.taskToken)) return { requestId };
      throw new RequestEndedError('already decided', { requestId });
    }
    const key = await this.key();
    const messages = [];
    for (const approver of policy.approvers) {
      const link: ApprovalLink = {
        linkId: randomId(),
        requestId,
        executionId: input.executionId,
        approver,
        channel: approver.includes('@') ? 'email' : 'slack',
        expiresAt: input.expiresAt,
      };
      await this.deps.store.putLink(link);
      const url = `${this.deps.consoleUrl.replace(/\/+$/, '')}${linkPath(input.executionId, linkToken(key, link))}`;
      messages.push(composeMessage(stored, link, url));
    }
    await this.audit({ actor: input.requester, action: 'approval.request', outcome: 'success', request: stored, details: { approvers: [...policy.approvers], required: policy.required } });
    const deliveries = await deliverAll(messages, this.deps.senderFor, { ...this.deps.delivery, now: this.now, log: this.log });
    for (const delivery of deliveries) await this.deps.store.putDelivery(delivery);
    const failed = deliveries.filter((d) => !d.ok);
    if (failed.length > 0) {
      await this.audit({
        actor: 'system:approvals',
        action: 'approval.notify',
        outcome: 'failure',
        request: stored,
        details: { failed: failed.map((d) => `${d.channel}:${d.to}: ${d.error ?? ''}`) },
      });
    }
    return { requestId };
  }

  /** A GET of a link: verifies it and returns what the page shows, with a fresh CSRF token. Changes nothing. */
  async viewLink(executionId: string, token: string): Promise<LinkView> {
    const { link, snapshot, key } = await this.openLink(executionId, token, 'view');
    const now = this.now();
    await this.refuseAudited(link, snapshot.request, 'view', () => {
      checkLinkUnused(link);
      checkNotExpired(link.expiresAt, now, link.requestId);
      checkPending(snapshot.request, now);
    });
    const viewId = randomId();
    return {
      snapshot,
      link,
      outcome: evaluateApprovals(snapshot.request.policy, snapshot.decisions),
      state: effectiveState(snapshot.request, now),
      csrfToken: csrfToken(key, link.linkId, viewId, now.getTime()),
      formAction: linkPath(executionId, token),
    };
  }

  /** A POST from the page's form: every check, then the decision. */
  async decideByLink(executionId: string, token: string, csrf: string | undefined, input: DecisionInput): Promise<DecisionResult> {
    const { link, snapshot, key } = await this.openLink(executionId, token, input.action);
    const now = this.now();
    await this.refuseAudited(link, snapshot.request, input.action, () => {
      checkLinkUnused(link);
      checkNotExpired(link.expiresAt, now, link.requestId);
      checkPending(snapshot.request, now);
      checkCsrf(key, link.linkId, csrf, now, link.requestId);
      checkApprover(snapshot.request.policy.approvers, link.approver, link.requestId);
      validateInput(input, link.requestId);
      if (input.action === 'approve') checkSeparationOfDuties(snapshot.request, link.approver, link.approver);
      checkNotDecided(snapshot.decisions, link.approver, link.requestId);
    });
    await this.refuseAudited(link, snapshot.request, input.action, async () => {
      if (!(await this.deps.store.consumeLink(link.linkId, now.toISOString()))) throw new LinkUsedError(now.toISOString(), { requestId: link.requestId });
    });
    return this.record(snapshot.request, link.approver, link.channel, input, link);
  }

  /**
   * A decision by a known identity: an operator through the CLI (IAM principal or OS user) or a Slack user from a
   * verified interactive payload. The same checks as the page, without the link ones.
   */
  async decideAsIdentity(requestId: string, identity: string, channel: DecisionChannel, input: DecisionInput): Promise<DecisionResult> {
    const snapshot = await this.deps.store.getSnapshot(requestId);
    if (!snapshot) {
      const err = new NotFoundError(`Approval request ${requestId}`, { requestId });
      await this.auditRefusal(identity, undefined, input.action, err, channel);
      throw err;
    }
    const now = this.now();
    let approver = identity;
    try {
      checkPending(snapshot.request, now);
      approver = checkApprover(snapshot.request.policy.approvers, identity, requestId);
      validateInput(input, requestId);
      if (input.action === 'approve') checkSeparationOfDuties(snapshot.request, approver, identity);
      checkNotDecided(snapshot.decisions, approver, requestId);
    } catch (err) {
      if (err instanceof ApprovalRefusedError) await this.auditRefusal(identity, snapshot.request, input.action, err, channel);
      throw err;
    }
    return this.record(snapshot.request, approver, channel, input, undefined, identity);
  }

  /** Pending requests (expired ones excluded), newest first. */
  async listPending(limit = 50): Promise<StoredApprovalRequest[]> {
    const now = this.now();
    return (await this.deps.store.listByState('PENDING', limit)).filter((r) => effectiveState(r, now) === 'PENDING');
  }

  /** Requests that ended, newest first (approved and rejected, then expired ones still marked pending). */
  async listRecent(limit = 20): Promise<StoredApprovalRequest[]> {
    const now = this.now();
    const lists = await Promise.all((['APPROVED', 'REJECTED', 'ABORTED', 'EXPIRED'] as const).map((s) => this.deps.store.listByState(s, limit)));
    const expired = (await this.deps.store.listByState('PENDING', limit)).filter((r) => effectiveState(r, now) === 'EXPIRED').map((r) => ({ ...r, state: 'EXPIRED' as const }));
    return [...lists.flat(), ...expired].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }

  getSnapshot(requestId: string): Promise<ApprovalSnapshot | undefined> {
    return this.deps.store.getSnapshot(requestId);
  }

  /** The workflow ended the wait on its own (timed out, aborted): the links stop working. */
  async close(requestId: string, state: 'EXPIRED' | 'ABORTED', reason?: string): Promise<boolean> {
    return this.deps.store.endRequest(requestId, state, this.now().toISOString(), reason);
  }

  /** Parses and verifies the link token (signature, execution), loads the request. */
  private async openLink(executionId: string, token: string, action: string): Promise<{ link: ApprovalLink; snapshot: ApprovalSnapshot; key: Uint8Array }> {
    const key = await this.key();
    const parsed = parseLinkToken(token);
    const link = parsed && (await this.deps.store.getLink(parsed.linkId));
    if (!parsed || !link) {
      // A malformed token or an id we never issued: as good as a forged signature.
      const err = new BadSignatureError();
      await this.auditRefusal('anonymous', undefined, action, err, 'web', executionId);
      throw err;
    }
    const snapshot = await this.deps.store.getSnapshot(link.requestId);
    if (!snapshot) throw new NotFoundError(`Approval request ${link.requestId}`, { requestId: link.requestId });
    await this.refuseAudited(link, snapshot.request, action, () => checkLinkSignature(key, link, parsed.signature, executionId));
    return { link, snapshot, key };
  }

  /** Runs checks; a refusal is audited with the link's approver as actor, then rethrown. */
  private async refuseAudited(link: ApprovalLink, request: StoredApprovalRequest, action: string, checks: () => void | Promise<void>): Promise<void> {
    try {
      await checks();
    } catch (err) {
      if (err instanceof ApprovalRefusedError) await this.auditRefusal(link.approver, request, action, err, link.channel);
      throw err;
    }
  }

  private async record(
    request: StoredApprovalRequest,
    identity: string,
    channel: DecisionChannel,
    input: DecisionInput,
    link?: ApprovalLink,
    principal?: string,
  ): Promise<DecisionResult> {
    const time = this.now().toISOString();
    const comment = input.comment?.trim();
    const decision: ApprovalDecisionRecord = {
      requestId: request.requestId,
      identity,
      decision: input.action,
      time,
      channel,
      ...(comment ? { comment } : {}),
      ...(principal !== undefined && principal !== identity ? { principal } : {}),
    };
    if (!(await this.deps.store.putDecisionIfAbsent(decision))) {
      const err = new AlreadyDecidedError(identity, { requestId: request.requestId });
      await this.auditRefusal(identity, request, input.action, err, channel);
      throw err;
    }
    await this.audit({
      actor: principal ?? identity,
      action: `approval.${input.action}`,
      outcome: 'success',
      request,
      details: { channel, ...(comment ? { comment } : {}), ...(link ? { link: link.linkId } : {}) },
    });
    const snapshot = (await this.deps.store.getSnapshot(request.requestId)) ?? { request, decisions: [decision], deliveries: [] };
    const outcome = evaluateApprovals(request.policy, snapshot.decisions);
    let state: ApprovalState = 'PENDING';
    if (outcome.state === 'approved' && (await this.deps.store.endRequest(request.requestId, 'APPROVED', time))) {
      state = 'APPROVED';
      const output: ApprovalDecision = {
        approved: true,
        approvers: outcome.approvers.map((d) => ({ identity: d.identity, time: d.time, channel: d.channel, ...(d.comment ? { comment: d.comment } : {}) })),
      };
      await this.complete(snapshot.request, () => this.deps.completer.succeed(snapshot.request.taskToken, output));
    } else if (outcome.state === 'rejected' && (await this.deps.store.endRequest(request.requestId, 'REJECTED', time, outcome.by.comment))) {
      state = 'REJECTED';
      const reason = `${outcome.by.comment ?? 'rejected'} (rejected by ${outcome.by.identity} via ${outcome.by.channel})`;
      await this.complete(snapshot.request, () => this.deps.completer.fail(snapshot.request.taskToken, APPROVAL_REJECTED, reason));
    } else if (outcome.state !== 'pending') {
      state = (await this.deps.store.getSnapshot(request.requestId))?.request.state ?? 'PENDING';
    }
    return { requestId: request.requestId, decision, state, outcome };
  }

  /** Completes the workflow task, retrying transient failures; a final failure is noted on the request and audited. */
  private async complete(request: StoredApprovalRequest, run: () => Promise<void>): Promise<void> {
    let last: unknown;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await run();
        return;
      } catch (err) {
        last = err;
        const name = (err as { name?: string } | null)?.name ?? '';
        if (name === 'TaskTimedOut' || name === 'InvalidToken' || name === 'TaskDoesNotExist') break;
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
    const message = last instanceof Error ? `${last.name}: ${last.message}` : String(last);
    await this.deps.store.setCompletionError(request.requestId, message);
    await this.audit({ actor: 'system:approvals', action: 'approval.complete', outcome: 'failure', request, details: { error: message } });
    throw new ApprovalError('APPROVAL_TASK_COMPLETION', 502, `The decision was recorded but the workflow could not be told: ${message}`, {
      cause: last,
      requestId: request.requestId,
    });
  }

  private async auditRefusal(actor: string, request: StoredApprovalRequest | undefined, action: string, err: ApprovalError, channel: string, executionId?: string): Promise<void> {
    await this.audit({
      actor,
      action: 'approval.refused',
      outcome: 'rejected',
      ...(request ? { request } : {}),
      correlationId: request?.correlationId ?? executionId ?? 'approval',
      errorCode: err.code,
      errorMessage: err.message,
      details: { attempted: action, channel, status: err.status, ...(request ? { requestId: request.requestId } : executionId ? { executionId } : {}) },
    });
  }

  private async audit(entry: {
    actor: string;
    action: string;
    outcome: AuditRecordInput['outcome'];
    request?: StoredApprovalRequest;
    correlationId?: string;
    errorCode?: string;
    errorMessage?: string;
    details?: Record<string, string | number | boolean | string[]>;
  }): Promise<void> {
    const { request } = entry;
    await this.deps.audit.append({
      actor: entry.actor,
      action: entry.action,
      outcome: entry.outcome,
      correlationId: entry.correlationId ?? request?.correlationId ?? 'approval',
      ...(request ? { repository: request.repository, digest: request.digest, tags: [request.tag] } : {}),
      ...(entry.errorCode ? { errorCode: entry.errorCode } : {}),
      ...(entry.errorMessage ? { errorMessage: entry.errorMessage } : {}),
      details: { ...(request ? { requestId: request.requestId, executionId: request.executionId, edge: `${request.edge.from}->${request.edge.to}` } : {}), ...entry.details },
    });
  }
}

function validateInput(input: DecisionInput, requestId: string): void {
  if (input.action !== 'approve' && input.action !== 'reject') throw new BadInputError(`Unknown action "${String(input.action)}": approve or reject.`, { requestId });
  if ((input.comment?.length ?? 0) > MAX_COMMENT_LENGTH) throw new BadInputError(`The comment is longer than ${MAX_COMMENT_LENGTH} characters.`, { requestId });
  if (input.action === 'reject' && !input.comment?.trim()) throw new BadInputError('A rejection needs a reason: say what is wrong in the comment box.', { requestId });
}
