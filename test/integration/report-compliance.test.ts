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

/** A promotion run as the workflow records it (docs/REPORTS.md, "Promotion records"). */
function promotion(exec: string, digest: string, env: string, start: number, approve: boolean): AuditRecordInput[] {
  const base = { correlationId: exec, repository: 'team/app', digest, tags: ['1.4.0'] };
  const d = (extra: Record<string, string | number | boolean | Record<string, number | boolean | string>> = {}) => ({ environment: env, from: 'staging', executionId: exec, ...extra });
  const records: AuditRecordInput[] = [
    { ...base, actor: 'cli:alice', action: 'promote.request', outcome: 'success', time: at(start), details: d() },
    { ...base, actor: 'system:promotion', action: 'promote.scan-gate', outcome: 'success', time: at(start + 1), details: d({ scan: { critical: 0, high: 1, medium: 4 } }) },
    { ...base, actor: 'system:promotion', action: 'promote.signature-gate', outcome: 'success', time: at(start + 2), details: d({ signature: { verified: true, keyId: 'cosign-prod' } }) },
    { ...base, actor: 'system:promotion', action: 'promote.test-gate', outcome: 'success', time: at(start + 3), details: d({ test: { kind: 'http', status: 'passed' } }) },
    { ...base, actor: 'bob@example.com', action: 'promote.approval', outcome: approve ? 'success' : 'rejected', time: at(start + 10), details: d({ comment: approve ? 'LGTM, change CHG-42' : 'not during the freeze' }) },
  ];
  if (approve) {
    records.push({ ...base, actor: 'carol@example.com', action: 'promote.approval', outcome: 'success', time: at(start + 11), details: d({ comment: 'ok' }) });
    records.push({ ...base, actor: 'system:promotion', action: 'promote.record', outcome: 'success', time: at(start + 12), details: d() });
  }
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
      { actor: 'system:promotion', action: 'promote.validate', outcome: 'rejected', correlationId: 'exec-4', repository: 'team/app', digest: D2, errorCode: 'FREEZE_WINDOW', errorMessage: 'prod is frozen until 2026-01-12', time: at(300), details: { environment: 'prod' } },
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
    expect(report.records).toBe(7 + 5 + 7 + 4); // the copy before `since` is out
    expect(report.byAction.find((c) => c.key === 'promote.approval')).toEqual({ key: 'promote.approval', total: 5, outcomes: { success: 4, rejected: 1 } });
    expect(report.byActor[0]).toMatchObject({ key: 'system:promotion', total: 3 * 3 + 2 + 1 });
    expect(report.promotions.map((p) => [p.executionId, p.outcome])).toEqual([['exec-1', 'promoted'], ['exec-2', 'rejected'], ['exec-4', 'rejected']]);
    const first = report.promotions[0]!;
    expect(first).toMatchObject({ digest: D1, requester: 'cli:alice', environment: 'prod', from: 'staging', scan: { outcome: 'success', result: { critical: 0, high: 1, medium: 4 } }, signature: { result: { verified: true, keyId: 'cosign-prod' } }, test: { result: { status: 'passed' } } });
    expect(first.approvers).toEqual([
      { approver: 'bob@example.com', decision: 'approved', comment: 'LGTM, change CHG-42', time: at(10) },
      { approver: 'carol@example.com', decision: 'approved', comment: 'ok', time: at(11) },
    ]);
    expect(report.securityEvents.map((e) => [e.kind, e.why])).toEqual([
      ['event-rejected', 'detail.image-digest missing'],
      ['bad-webhook-signature', 'X-Hub-Signature-256 does not match'],
      ['approval-refused', 'not during the freeze'],
      ['promotion-blocked', 'prod is frozen until 2026-01-12'],
    ]);
    expect(report.chain).toMatchObject({ ok: true, checked: 24 });
  });

  it('exports one release as JSON evidence whose records are in the chain, and as Markdown', async () => {
    // Act
    const evidence = await releaseEvidence(log, { environment: 'prod', repository: 'team/app', digest: D1 });
    const md = evidenceMarkdown(evidence);
    const stored = await log.query({ correlationId: 'exec-1', order: 'oldest-first' });

    // Assess
    expect(evidence).toMatchObject({ kind: 'regman.release-evidence', executionId: 'exec-1', outcome: 'promoted', finishedAt: at(12), tags: ['1.4.0'] });
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
    expect(text).toMatch(/Audit chain: verified \(24 records/);
    expect(markdown).toMatch(/^# Compliance report/);
    expect(await pageInBrowser.locator('#chain .ok').textContent()).toMatch(/verified: 24 records/);
    expect(await pageInBrowser.locator('#promotions svg circle').count()).toBe(7 + 5 + 1);
    expect(await pageInBrowser.locator('#actions svg rect').count()).toBeGreaterThanOrEqual(report.byAction.length);
    expect(await pageInBrowser.locator('#security tbody tr').count()).toBe(4);
    expect(requests.filter((u) => !u.startsWith('about:') && !u.startsWith('data:'))).toEqual([]);
    await pageInBrowser.close();
  });
});
