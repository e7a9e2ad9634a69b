import { describe, expect, it } from 'vitest';
import type { AuditRecordInput } from '../../../functions/audit/types.ts';
import { isApprovalError } from '../../../functions/approvals/errors.ts';
import { InMemoryApprovalStore } from '../../../functions/approvals/memory-store.ts';
import type { ApprovalMessage } from '../../../functions/approvals/notify/types.ts';
import { APPROVAL_REJECTED, type ApprovalRequest } from '../../../functions/approvals/requester.ts';
import { ApprovalService } from '../../../functions/approvals/service.ts';
import type { ApprovalPolicy } from '../../../functions/approvals/types.ts';
import { approvalPageView } from '../../../functions/approvals/view-model.ts';
import { renderApprovalPage } from '../../../functions/web/approval-page.ts';
import { renderRefusal } from '../../../functions/web/refusal-page.ts';
import { RecordingCompleter, sampleRequest } from './fixtures.ts';

interface Setup {
  service: ApprovalService;
  completer: RecordingCompleter;
  audit: AuditRecordInput[];
  sent: ApprovalMessage[];
  clock: { now: Date };
  store: InMemoryApprovalStore;
}

function setup(policy: ApprovalPolicy, failing: ReadonlySet<string> = new Set()): Setup {
  const completer = new RecordingCompleter();
  const audit: AuditRecordInput[] = [];
  const sent: ApprovalMessage[] = [];
  const clock = { now: new Date('2029-06-01T12:00:00.000Z') };
  const store = new InMemoryApprovalStore();
  const sender = {
    async send(message: ApprovalMessage): Promise<void> {
      if (failing.has(message.to)) throw new Error('mailbox unavailable');
      sent.push(message);
    },
  };
  const service = new ApprovalService({
    store,
    key: async () => Buffer.alloc(32, 1),
    completer,
    audit: { append: async (r) => audit.push(r) },
    policyFor: () => policy,
    consoleUrl: 'http://console.test/',
    senderFor: () => sender,
    delivery: { baseDelayMs: 0 },
    log: () => undefined,
    now: () => clock.now,
  });
  return { service, completer, audit, sent, clock, store };
}

/** The execution and token of the link sent to `approver`. */
function linkOf(sent: readonly ApprovalMessage[], approver: string): { execution: string; token: string } {
  const message = sent.find((m) => m.to === approver);
  if (!message) throw new Error(`no message to ${approver}`);
  const [, , execution, token] = new URL(message.link).pathname.split('/');
  return { execution: decodeURIComponent(execution!), token: token! };
}

async function approveVia(s: Setup, approver: string, action: 'approve' | 'reject' = 'approve', comment?: string) {
  const { execution, token } = linkOf(s.sent, approver);
  const view = await s.service.viewLink(execution, token);
  return s.service.decideByLink(execution, token, view.csrfToken, { action, ...(comment ? { comment } : {}) });
}

async function refusal(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return 'no refusal';
  } catch (err) {
    return isApprovalError(err) ? `${err.code}:${err.status}` : String(err);
  }
}

const THREE: ApprovalPolicy = { approvers: ['alice@example.com', 'bob@example.com', 'rita@example.com'], required: 2 };

describe('ApprovalService', () => {
  it('sends one link per approver that names neither the task token nor the approver', async () => {
    const s = setup(THREE);
    await s.service.request(sampleRequest());
    expect(s.sent.map((m) => m.to)).toEqual(THREE.approvers);
    expect(new Set(s.sent.map((m) => m.link)).size).toBe(3);
    for (const m of s.sent) {
      expect(m.link).not.toContain('TASK-TOKEN');
      expect(m.text).not.toContain('TASK-TOKEN');
      expect(m.link).not.toContain('alice');
      expect(m.html).toContain(m.link);
    }
    expect(s.audit.map((a) => a.action)).toEqual(['approval.request']);
  });

  it('changes nothing on GET, however often, and completes on the second distinct approval', async () => {
    const s = setup(THREE);
    await s.service.request(sampleRequest());
    const { execution, token } = linkOf(s.sent, 'alice@example.com');
    for (let i = 0; i < 3; i += 1) await s.service.viewLink(execution, token);
    expect((await s.store.getSnapshot('promote-team-app-1'))?.decisions).toEqual([]);
    expect(s.audit.filter((a) => a.action !== 'approval.request')).toEqual([]);

    const first = await approveVia(s, 'alice@example.com', 'approve', 'looks good');
    expect(first.state).toBe('PENDING');
    expect(s.completer.succeeded).toEqual([]);
    const second = await approveVia(s, 'bob@example.com');
    expect(second.state).toBe('APPROVED');
    expect(s.completer.succeeded).toHaveLength(1);
    expect(s.completer.succeeded[0]!.token).toBe('TASK-TOKEN-SECRET-123');
    expect(s.completer.succeeded[0]!.output.approvers.map((a) => [a.identity, a.channel, a.comment])).toEqual([
      ['alice@example.com', 'email', 'looks good'],
      ['bob@example.com', 'email', undefined],
    ]);
    // The third link now meets an ended request.
    const { execution: e3, token: t3 } = linkOf(s.sent, 'rita@example.com');
    expect(await refusal(() => s.service.viewLink(e3, t3))).toBe('APPROVAL_ENDED:409');
  });

  it('refuses a replayed link, a POST without or with a wrong CSRF token, and audits each refusal', async () => {
    const s = setup(THREE);
    await s.service.request(sampleRequest());
    const { execution, token } = linkOf(s.sent, 'alice@example.com');
    const view = await s.service.viewLink(execution, token);
    expect(await refusal(() => s.service.decideByLink(execution, token, undefined, { action: 'approve' }))).toBe('APPROVAL_CSRF_MISSING:403');
    const bob = linkOf(s.sent, 'bob@example.com');
    const bobView = await s.service.viewLink(bob.execution, bob.token);
    expect(await refusal(() => s.service.decideByLink(execution, token, bobView.csrfToken, { action: 'approve' }))).toBe('APPROVAL_CSRF_INVALID:403');
    await s.service.decideByLink(execution, token, view.csrfToken, { action: 'approve' });
    expect(await refusal(() => s.service.decideByLink(execution, token, view.csrfToken, { action: 'approve' }))).toBe('APPROVAL_LINK_USED:409');
    expect(await refusal(() => s.service.viewLink(execution, token))).toBe('APPROVAL_LINK_USED:409');
    expect(await refusal(() => s.service.viewLink('another-execution', token))).toBe('APPROVAL_WRONG_EXECUTION:403');
    expect(await refusal(() => s.service.viewLink(execution, `${token.slice(0, -2)}AA`))).toBe('APPROVAL_BAD_SIGNATURE:403');
    const refused = s.audit.filter((a) => a.action === 'approval.refused');
    expect(refused.map((a) => a.errorCode)).toEqual([
      'APPROVAL_CSRF_MISSING',
      'APPROVAL_CSRF_INVALID',
      'APPROVAL_LINK_USED',
      'APPROVAL_LINK_USED',
      'APPROVAL_WRONG_EXECUTION',
      'APPROVAL_BAD_SIGNATURE',
    ]);
    expect(refused.every((a) => a.outcome === 'rejected')).toBe(true);
    expect(JSON.stringify(s.audit)).not.toContain('TASK-TOKEN');
  });

  it('refuses the requester (separation of duties) but lets them reject', async () => {
    const s = setup(THREE);
    await s.service.request(sampleRequest({ requester: 'rita@example.com' }));
    const { execution, token } = linkOf(s.sent, 'rita@example.com');
    const view = await s.service.viewLink(execution, token);
    expect(await refusal(() => s.service.decideByLink(execution, token, view.csrfToken, { action: 'approve' }))).toBe('APPROVAL_SEPARATION_OF_DUTIES:403');
    // The refused approval did not use up the link.
    const done = await s.service.decideByLink(execution, token, view.csrfToken, { action: 'reject', comment: 'wrong build' });
    expect(done.state).toBe('REJECTED');
  });

  it('ends on one rejection with the reason, and a rejection needs a reason', async () => {
    const s = setup(THREE);
    await s.service.request(sampleRequest());
    await approveVia(s, 'alice@example.com');
    expect(await refusal(() => approveVia(s, 'bob@example.com', 'reject'))).toBe('APPROVAL_BAD_INPUT:400');
    const result = await approveVia(s, 'bob@example.com', 'reject', 'CVE not acceptable');
    expect(result.state).toBe('REJECTED');
    expect(s.completer.succeeded).toEqual([]);
    expect(s.completer.failed).toEqual([{ token: 'TASK-TOKEN-SECRET-123', error: APPROVAL_REJECTED, cause: expect.stringContaining('CVE not acceptable') }]);
    expect(await refusal(() => approveVia(s, 'rita@example.com'))).toBe('APPROVAL_ENDED:409');
  });

  it('needs one approval from requiredFrom', async () => {
    const s = setup({ ...THREE, requiredFrom: ['rita@example.com'] });
    await s.service.request(sampleRequest());
    await approveVia(s, 'alice@example.com');
    expect((await approveVia(s, 'bob@example.com')).state).toBe('PENDING');
    expect((await approveVia(s, 'rita@example.com')).state).toBe('APPROVED');
  });

  it('stops links at the expiry', async () => {
    const s = setup(THREE);
    await s.service.request(sampleRequest({ expiresAt: '2029-06-01T13:00:00.000Z' }));
    const { execution, token } = linkOf(s.sent, 'alice@example.com');
    const view = await s.service.viewLink(execution, token);
    s.clock.now = new Date('2029-06-01T13:00:01.000Z');
    expect(await refusal(() => s.service.viewLink(execution, token))).toBe('APPROVAL_LINK_EXPIRED:410');
    expect(await refusal(() => s.service.decideByLink(execution, token, view.csrfToken, { action: 'approve' }))).toBe('APPROVAL_LINK_EXPIRED:410');
    expect(await s.service.listPending()).toEqual([]);
    expect((await s.service.listRecent()).map((r) => r.state)).toEqual(['EXPIRED']);
  });

  it('takes operator decisions by identity with the same checks (CLI)', async () => {
    const s = setup({ approvers: ['alice', 'bob'], required: 1 });
    await s.service.request(sampleRequest({ requester: 'cli:alice' }));
    expect(await refusal(() => s.service.decideAsIdentity('promote-team-app-1', 'alice', 'cli', { action: 'approve' }))).toBe('APPROVAL_SEPARATION_OF_DUTIES:403');
    expect(await refusal(() => s.service.decideAsIdentity('promote-team-app-1', 'carol', 'cli', { action: 'approve' }))).toBe('APPROVAL_WRONG_APPROVER:403');
    expect(await refusal(() => s.service.decideAsIdentity('nope', 'bob', 'cli', { action: 'approve' }))).toBe('APPROVAL_NOT_FOUND:404');
    const done = await s.service.decideAsIdentity('promote-team-app-1', 'arn:aws:sts::1:assumed-role/Ops/bob', 'cli', { action: 'approve' });
    expect(done.state).toBe('APPROVED');
    expect(s.completer.succeeded[0]!.output.approvers).toEqual([{ identity: 'bob', channel: 'cli', time: '2029-06-01T12:00:00.000Z' }]);
    expect(s.audit.find((a) => a.action === 'approval.approve')?.actor).toBe('arn:aws:sts::1:assumed-role/Ops/bob');
  });

  it('keeps the links of a retried RequestApproval and takes its new task token', async () => {
    const s = setup({ approvers: ['alice@example.com'], required: 1 });
    await s.service.request(sampleRequest());
    await s.service.request(sampleRequest({ taskToken: 'NEW-TOKEN' }));
    expect(s.sent).toHaveLength(1);
    await approveVia(s, 'alice@example.com');
    expect(s.completer.succeeded[0]!.token).toBe('NEW-TOKEN');
  });

  it('records failed deliveries after retries, shows them on the page and audits them', async () => {
    const s = setup(THREE, new Set(['bob@example.com']));
    await s.service.request(sampleRequest());
    const snap = await s.store.getSnapshot('promote-team-app-1');
    expect(snap?.deliveries.find((d) => d.to === 'bob@example.com')).toMatchObject({ ok: false, attempts: 3, error: 'mailbox unavailable' });
    expect(s.audit.find((a) => a.action === 'approval.notify')?.outcome).toBe('failure');
    const { execution, token } = linkOf(s.sent, 'alice@example.com');
    const page = renderApprovalPage(approvalPageView(await s.service.viewLink(execution, token), true));
    expect(page).toContain('Undelivered messages');
    expect(page).toContain('mailbox unavailable');
  });
});

describe('approval page', () => {
  async function pageFor(request: ApprovalRequest, mayApprove = true): Promise<string> {
    const s = setup(THREE);
    await s.service.request(request);
    const { execution, token } = linkOf(s.sent, 'alice@example.com');
    return renderApprovalPage(approvalPageView(await s.service.viewLink(execution, token), mayApprove));
  }

  it('shows the digest, gates, current digest, tag moves, approvals needed and a CSRF-carrying POST form', async () => {
    const page = await pageFor(sampleRequest());
    expect(page).toContain(`sha256:${'a'.repeat(64)}`);
    expect(page).toContain(`sha256:${'b'.repeat(64)}`);
    expect(page).toMatch(/critical: 0.*high: 1.*low: 3/s);
    expect(page).toContain('CVE-2024-0001');
    expect(page).toContain('href="https://ci.example.com/run/7"');
    expect(page).toContain('2 of 3');
    expect(page).toContain('<form method="post"');
    expect(page).toMatch(/name="csrf" value="[A-Za-z0-9_-]+\.\d+\.[A-Za-z0-9_-]{43}"/);
    expect(page).toContain('value="approve"');
    expect(page).not.toContain('<script');
    expect(page).not.toMatch(/(src|href)="(https?:)?\/\/(?!ci\.example\.com)/);
  });

  it('escapes every value', async () => {
    const page = await pageFor(sampleRequest({ repository: 'team/<script>alert(1)</script>', requester: '"><img src=x>' }));
    expect(page).not.toContain('<script>alert(1)');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('"><img');
  });

  it('offers only Reject when separation of duties bars the approver', async () => {
    const page = await pageFor(sampleRequest(), false);
    expect(page).not.toContain('value="approve"');
    expect(page).toContain('value="reject"');
  });

  it('renders refusals with their status', () => {
    const out = renderRefusal({ code: 'APPROVAL_LINK_EXPIRED', status: 410, message: 'expired at <x>' });
    expect(out.status).toBe(410);
    expect(out.body).toContain('This link has expired');
    expect(out.body).toContain('expired at &lt;x&gt;');
  });
});
