// `regman report compliance|evidence` over promotion records written through the real audit log on dynalite; the HTML page in Chromium.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { complianceReport, releaseEvidence, renderCompliance } from '../../bin/commands/report.ts';
import { AuditLog } from '../../functions/audit/audit-log.ts';
import { DynamoAuditStore } from '../../functions/audit/dynamo-store.ts';
import type { AuditRecordInput } from '../../functions/audit/types.ts';
import { evidenceMarkdown } from '../../functions/reports/render-compliance.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { screenshotPath } from '../helpers/screenshots.ts';

const D1 = `sha256:${'a1'.repeat(32)}`;
const D2 = `sha256:${'b2'.repeat(32)}`;
const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);
const at = (min: number): string => new Date(T0 + min * 60_000).toISOString();

/**
 * A promotion run as the workflow records it (functions/promotion/deps.ts auditStep, functions/approvals/service.ts;
 * docs/REPORTS.md, "Promotion records"): steps by the requester, decisions by the approvers, one correlation id.
 */
function promotion(exec: string, digest: string, env: string, start: number, approve: boolean): AuditRecordInput[] {
  const base = { correlationId: exec, repository: 'team/app', digest, tags: ['1.4.0'] };
  const d = (extra: Record<string, string | number | boolean> = {}) => ({ executionId: exec, from: 'staging', to: env, ...extra });
  const decided = (extra: Record<string, string> = {}) => ({ executionId: exec, requestId: exec, edge: `staging->${env}`, channel: 'web', ...extra });
  const step = (action: string, minute: number, outcome: AuditRecordInput['outcome'], details: ReturnType<typeof d>, extra: Partial<AuditRecordInput> = {}): AuditRecordInput =>
    ({ ...base, actor: 'cli:alice', action, outcome, time: at(start + minute), details, ...extra });
  const records: AuditRecordInput[] = [
    step('promote.validate', 0, 'success', d({ freezeOverridden: false }), { registry: 'staging' }),
    step('promote.scan', 1, 'success', d({ summary: '0 critical, 1 high, 4 medium' })),
    step('promote.signature', 2, 'success', d({ summary: 'signed by cosign-prod (cosign signature (.sig tag))' })),
    step('promote.tests', 3, 'success', d({ summary: 'HTTP hook https://ci.example/hooks passed' })),
    { ...base, actor: 'cli:alice', action: 'approval.request', outcome: 'success', time: at(start + 4), details: decided() },
    { ...base, actor: 'mallory@example.com', action: 'approval.refused', outcome: 'rejected', time: at(start + 5), errorCode: 'APPROVAL_WRONG_APPROVER', errorMessage: 'mallory@example.com is not an approver of this request.', details: decided({ attempted: 'approve' }) },
    approve
      ? { ...base, actor: 'bob@example.com', action: 'approval.approve', outcome: 'success', time: at(start + 10), details: decided({ comment: 'LGTM, change CHG-42' }) }
      : { ...base, actor: 'bob@example.com', action: 'approval.reject', outcome: 'success', time: at(start + 10), details: decided({ comment: 'not during the freeze' }) },
  ];
  if (approve) {
    records.push({ ...base, actor: 'carol@example.com', action: 'approval.approve', outcome: 'success', time: at(start + 11), details: decided({ comment: 'ok' }) });
    records.push(step('promote.sync', 12, 'success', d({ blobsUploaded: 3, bytesUploaded: 5000 }), { tags: ['1.4.0', `${env}-1.4.0`], registry: env, source: 'staging', target: env, bytes: 5000 }));
  }
  records.push(step('promote.record', 13, approve ? 'success' : 'rejected', d({ status: approve ? 'SUCCEEDED' : 'REJECTED' }), approve ? {} : { errorCode: 'ApprovalRejected', errorMessage: 'not during the freeze (rejected by bob@example.com via web)' }));
  return records;
}

describe('compliance report and release evidence (dynalite)', () => {
  let db: DynaliteHandle;
  let log: AuditLog;
  let browser: Browser;
  const period = { since: at(0), until: at(600), protectedEnvironments: ['prod'] };

  beforeAll(async () => {
    [db, browser] = await Promise.all([startDynalite(), launchChromium()]);
    log = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
    const records: AuditRecordInput[] = [
      ...promotion('exec-1', D1, 'prod', 0, true),
      ...promotion('exec-2', D2, 'prod', 100, false),
      ...promotion('exec-3', D2, 'staging', 200, true),
      { actor: 'event:aws.ecr', action: 'replicate', outcome: 'success', correlationId: 'evt-1', repository: 'team/app', digest: D1, source: 'ecr-main', target: 'gar-eu', bytes: 5000, time: at(5) },
      { actor: 'event:aws.ecr', action: 'event.rejected', outcome: 'rejected', correlationId: 'evt-2', errorCode: 'EVENT_INVALID', errorMessage: 'detail.image-digest missing', time: at(6) },
      { actor: 'webhook:github', action: 'webhook.request', outcome: 'rejected', correlationId: 'wh-1', errorCode: 'BAD_SIGNATURE', errorMessage: 'X-Hub-Signature-256 does not match', time: at(7) },
      { actor: 'cli:alice', action: 'promote.validate', outcome: 'rejected', correlationId: 'exec-4', repository: 'team/app', digest: D2, tags: ['1.4.0'], errorCode: 'FREEZE_WINDOW', errorMessage: 'prod is frozen until 2026-01-12', time: at(300), details: { executionId: 'exec-4', from: 'staging', to: 'prod' } },
      // A hold names the environment but is not a promotion run.
      { actor: 'cli:ops', action: 'promote.hold-set', outcome: 'success', correlationId: 'hold-1', repository: 'team/app', time: at(301), details: { environment: 'prod', reason: 'incident 7' } },
      { actor: 'cli:old', action: 'copy', outcome: 'success', correlationId: 'cli-x', repository: 'old/app', time: at(-60) },
    ];
    for (const r of records) await log.append(r);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([db?.stop(), browser?.close()]);
  });

  it('totals the period, lists promotions into prod with evidence, and the security events', async () => {
    // Act
    const report = await complianceReport(log, period);

    // Assess
    expect(report.records).toBe(10 + 8 + 10 + 5); // the copy before `since` is out
    expect(report.byAction.find((c) => c.key === 'approval.approve')).toEqual({ key: 'approval.approve', total: 4, outcomes: { success: 4 } });
    expect(report.byAction.find((c) => c.key === 'approval.refused')).toEqual({ key: 'approval.refused', total: 3, outcomes: { rejected: 3 } });
    expect(report.byActor[0]).toMatchObject({ key: 'cli:alice', total: 7 + 6 + 7 + 1 });
    expect(report.promotions.map((p) => [p.executionId, p.outcome])).toEqual([['exec-1', 'promoted'], ['exec-2', 'rejected'], ['exec-4', 'rejected']]);
    const first = report.promotions[0]!;
    expect(first).toMatchObject({ digest: D1, requester: 'cli:alice', environment: 'prod', from: 'staging', scan: { outcome: 'success', result: '0 critical, 1 high, 4 medium' }, signature: { outcome: 'success', result: 'signed by cosign-prod (cosign signature (.sig tag))' }, test: { outcome: 'success', result: 'HTTP hook https://ci.example/hooks passed' } });
    // The refused non-approver is a security event, not an approver of the release.
    expect(report.promotions[1]).toMatchObject({ executionId: 'exec-2', approvers: [{ approver: 'bob@example.com', decision: 'rejected', comment: 'not during the freeze' }] });
    expect(report.promotions[2]).toMatchObject({ executionId: 'exec-4', digest: D2, outcome: 'rejected', requester: 'cli:alice' });
    expect(first.approvers).toEqual([
      { approver: 'bob@example.com', decision: 'approved', comment: 'LGTM, change CHG-42', time: at(10) },
      { approver: 'carol@example.com', decision: 'approved', comment: 'ok', time: at(11) },
    ]);
    expect(report.securityEvents.map((e) => [e.kind, e.why])).toEqual([
      ['approval-refused', 'mallory@example.com is not an approver of this request.'],
      ['event-rejected', 'detail.image-digest missing'],
      ['bad-webhook-signature', 'X-Hub-Signature-256 does not match'],
      ['approval-refused', 'mallory@example.com is not an approver of this request.'],
      ['approval-refused', 'not during the freeze'],
      ['approval-refused', 'mallory@example.com is not an approver of this request.'],
      ['promotion-blocked', 'prod is frozen until 2026-01-12'],
    ]);
    expect(report.chain).toMatchObject({ ok: true, checked: 34 });
  });

  it('exports one release as JSON evidence whose records are in the chain, and as Markdown', async () => {
    // Act
    const evidence = await releaseEvidence(log, { environment: 'prod', repository: 'team/app', digest: D1 });
    const md = evidenceMarkdown(evidence);
    const stored = await log.query({ correlationId: 'exec-1', order: 'oldest-first' });

    // Assess
    expect(evidence).toMatchObject({ kind: 'regman.release-evidence', executionId: 'exec-1', outcome: 'promoted', finishedAt: at(13), tags: ['1.4.0', 'prod-1.4.0'] });
    expect(evidence.records.map((r) => r.hash)).toEqual(stored.map((r) => r.hash));
    expect(md).toContain(`| digest | \`${D1}\` |`);
    expect(md).toMatch(/\| bob@example\.com \| approved \| LGTM, change CHG-42 \|/);
    await expect(releaseEvidence(log, { environment: 'prod', repository: 'team/app', digest: `sha256:${'c'.repeat(64)}` })).rejects.toMatchObject({ code: 'REPORT_NOT_FOUND' });
  });

  it('refuses a period without records with a clear error', async () => {
    await expect(complianceReport(log, { since: '2020-01-01', until: '2020-02-01', protectedEnvironments: ['prod'] })).rejects.toMatchObject({
      code: 'REPORT_EMPTY_PERIOD',
      message: expect.stringMatching(/No audit records from 2020-01-01T00:00:00.000Z until 2020-02-01T00:00:00.000Z/),
    });
  });

  it('renders text, Markdown and a self-contained HTML page that Chromium shows with its charts', async () => {
    // Prepare
    const report = await complianceReport(log, period);

    // Act
    const text = renderCompliance(report, 'text');
    const markdown = renderCompliance(report, 'md');
    const html = renderCompliance(report, 'html');
    const pageInBrowser = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const requests: string[] = [];
    pageInBrowser.on('request', (r) => requests.push(r.url()));
    await pageInBrowser.setContent(html);
    await pageInBrowser.screenshot({ path: screenshotPath('report-compliance.png'), fullPage: true });

    // Assess
    expect(text).toMatch(/Audit chain: verified \(34 records/);
    expect(markdown).toMatch(/^# Compliance report/);
    expect(await pageInBrowser.locator('#chain .ok').textContent()).toMatch(/verified: 34 records/);
    expect(await pageInBrowser.locator('#promotions svg circle').count()).toBe(10 + 8 + 1);
    expect(await pageInBrowser.locator('#actions svg rect').count()).toBeGreaterThanOrEqual(report.byAction.length);
    expect(await pageInBrowser.locator('#security tbody tr').count()).toBe(7);
    expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
    await pageInBrowser.close();
  });
});
