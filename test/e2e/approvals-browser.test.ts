// End to end through the console's own handlers on the control listener, dynalite and Debian's Chromium (playwright-core):
// the outbox link, an unfurler's GET, CSRF, Approve in the browser, replay, 2-of-3 with separation of duties, rejection, expiry.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, DynamoAuditStore } from '../../functions/audit/index.ts';
import type { OutboxEntry } from '../../functions/approvals/notify/outbox.ts';
import type { RegmanConfig } from '../../functions/config/types.ts';
import { SELF_AUTHENTICATED_PREFIXES } from '../../functions/web/routes.ts';
import { startLocalApprovals, type LocalApprovals } from '../../local/approvals.ts';
import { newControlToken } from '../../local/control-auth.ts';
import { writeEndpoints } from '../../local/endpoints.ts';
import { startControlServer, type ControlServer } from '../../local/control-server.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { sampleRequest } from '../unit/approvals/fixtures.ts';
import { screenshotDir } from '../helpers/screenshots.ts';

const DOCS = screenshotDir();
const edge = (from: string, to: string, approvers: string[], required: number) => ({ from, to, gates: { approval: { approvers, required, expiresInHours: 24 } }, autoRollback: true });
const CONFIG = {
  promotion: [edge('dev', 'staging', ['alice@example.com'], 1), edge('staging', 'prod', ['alice@example.com', 'bob@example.com', 'rita@example.com'], 2)],
} as unknown as Pick<RegmanConfig, 'promotion'>;

let state: string;
let db: DynaliteHandle;
let control: ControlServer;
let approvals: LocalApprovals;
let audit: AuditLog;
let browser: Browser;
const controlToken = newControlToken();
const clock = { offsetMs: 0 };

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), 'regman-approvals-e2e-'));
  db = await startDynalite();
  audit = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit }));
  let serve: LocalApprovals['serve'] = async () => false;
  control = await startControlServer({
    log: () => undefined,
    controlToken,
    onNotification: () => undefined,
    onReconcile: async () => ({}),
    onConsole: (req, res) => serve(req, res),
    exemptPathPrefixes: SELF_AUTHENTICATED_PREFIXES,
  });
  approvals = await startLocalApprovals({
    stateDir: state,
    config: CONFIG,
    dynamoEndpoint: db.endpoint,
    tableName: db.tableNames.approvals,
    audit,
    consoleUrl: control.url,
    log: () => undefined,
    now: () => new Date(Date.now() + clock.offsetMs),
  });
  serve = (req, res) => approvals.serve(req, res);
  // What the CLI reads to find the running stack: this test's listener stands in for it.
  await writeEndpoints(state, { registries: {}, environments: {}, source: '', dynamodb: { endpoint: db.endpoint, tables: db.tableNames }, control: control.url, controlToken, console: control.url, pid: process.pid });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  approvals?.close();
  await control?.stop();
  await db?.stop();
  rmSync(state, { recursive: true, force: true });
});

function outbox(executionId: string): OutboxEntry[] {
  return readFileSync(join(state, 'outbox.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as OutboxEntry)
    .filter((e) => e.executionId === executionId);
}

const linkFor = (executionId: string, to: string): string => outbox(executionId).find((e) => e.to === to)!.link;

async function post(link: string, form: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  return { status: res.status, text: await res.text() };
}

async function csrfOf(link: string): Promise<string> {
  const page = await (await fetch(link)).text();
  return /name="csrf" value="([^"]+)"/.exec(page)![1]!;
}

describe('approvals end to end (own handlers, stand-in workflow: the local task completer)', () => {
  it('a dev → staging approval: outbox link, unfurler GET, CSRF, Approve in Chromium, replay refused', async () => {
    const request = sampleRequest({ executionId: 'e2e-dev-staging', taskToken: 'token-dev-staging', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    await approvals.service.request(request);
    const entries = outbox('e2e-dev-staging');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ channel: 'email', to: 'alice@example.com', executionId: 'e2e-dev-staging' });
    expect(entries[0]!.link.startsWith(`${control.url}/approvals/`)).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('token-dev-staging');
    const link = entries[0]!.link;

    // An unfurler (Slack, Safe Links) GETs the link: nothing changes.
    for (let i = 0; i < 3; i += 1) expect((await fetch(link, { headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0' } })).status).toBe(200);
    const settled = { done: false };
    void approvals.completer.wait('token-dev-staging').then(() => (settled.done = true));
    expect((await approvals.service.getSnapshot('e2e-dev-staging'))?.request.state).toBe('PENDING');

    const noCsrf = await post(link, { action: 'approve' });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.text).toContain('APPROVAL_CSRF_MISSING');
    expect(settled.done).toBe(false);

    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    await page.goto(link);
    expect(await page.getByTestId('digest').textContent()).toBe(request.digest);
    expect(await page.getByTestId('scan-counts').textContent()).toMatch(/critical: 0.*high: 1.*low: 3/);
    expect(await page.getByTestId('current-digest').textContent()).toBe(request.target!.currentDigest);
    await page.screenshot({ path: join(DOCS, 'approval-desktop.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(DOCS, 'approval-phone.png'), fullPage: true });
    const csrfFromBrowser = await page.locator('input[name=csrf]').getAttribute('value');
    await page.fill('#comment', 'checked the scan');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForLoadState();
    expect(await page.getByTestId('state').textContent()).toContain('the promotion goes on');
    await context.close();

    const outcome = await approvals.completer.wait('token-dev-staging');
    expect(outcome).toMatchObject({ ok: true, output: { approved: true, approvers: [{ identity: 'alice@example.com', channel: 'email', comment: 'checked the scan' }] } });

    const replay = await post(link, { action: 'approve', csrf: csrfFromBrowser! });
    expect(replay.status).toBe(409);
    expect(replay.text).toContain('APPROVAL_LINK_USED');
    const refused = await audit.query({ action: 'approval.refused' });
    expect(refused.map((r) => r.errorCode)).toEqual(expect.arrayContaining(['APPROVAL_CSRF_MISSING', 'APPROVAL_LINK_USED']));
  }, 60_000);

  it('a 2-of-3 edge needs two different approvers; the requester\'s own link is refused', async () => {
    await approvals.service.request(
      sampleRequest({ executionId: 'e2e-2of3', taskToken: 'token-2of3', edge: { from: 'staging', to: 'prod' }, requester: 'rita@example.com', expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
    );
    const rita = linkFor('e2e-2of3', 'rita@example.com');
    const own = await post(rita, { action: 'approve', csrf: await csrfOf(rita) });
    expect(own.status).toBe(403);
    expect(own.text).toContain('APPROVAL_SEPARATION_OF_DUTIES');
    const alice = linkFor('e2e-2of3', 'alice@example.com');
    const first = await post(alice, { action: 'approve', csrf: await csrfOf(alice) });
    expect(first.text).toContain('1 more approval needed');
    expect((await approvals.service.getSnapshot('e2e-2of3'))?.request.state).toBe('PENDING');
    const bob = linkFor('e2e-2of3', 'bob@example.com');
    expect((await post(bob, { action: 'approve', csrf: await csrfOf(bob) })).status).toBe(200);
    const outcome = await approvals.completer.wait('token-2of3');
    expect(outcome.ok && outcome.output.approvers.map((a) => a.identity)).toEqual(['alice@example.com', 'bob@example.com']);
  }, 30_000);

  it('a rejection with a reason ends the request REJECTED; an expired link shows the expiry page', async () => {
    await approvals.service.request(sampleRequest({ executionId: 'e2e-reject', taskToken: 'token-reject', expiresAt: new Date(Date.now() + 3600_000).toISOString() }));
    const link = linkFor('e2e-reject', 'alice@example.com');
    const csrf = await csrfOf(link);
    expect((await post(link, { action: 'reject', csrf })).status).toBe(400);
    expect((await post(link, { action: 'reject', csrf, comment: 'wrong base image' })).status).toBe(200);
    expect(await approvals.completer.wait('token-reject')).toEqual({ ok: false, error: 'ApprovalRejected', cause: expect.stringContaining('wrong base image') });
    expect((await approvals.service.getSnapshot('e2e-reject'))?.request.state).toBe('REJECTED');

    await approvals.service.request(sampleRequest({ executionId: 'e2e-expire', taskToken: 'token-expire', expiresAt: new Date(Date.now() + 60_000).toISOString() }));
    const expiring = linkFor('e2e-expire', 'alice@example.com');
    clock.offsetMs = 120_000;
    try {
      const context = await browser.newContext({ viewport: { width: 390, height: 700 } });
      const page = await context.newPage();
      const res = await page.goto(expiring);
      expect(res?.status()).toBe(410);
      expect(await page.getByTestId('refusal').textContent()).toBe('This link has expired');
      await page.screenshot({ path: join(DOCS, 'approval-expired-phone.png') });
      await context.close();
    } finally {
      clock.offsetMs = 0;
    }
  }, 30_000);

  it('operators list, approve and reject from the CLI with the same checks', async () => {
    await approvals.service.request(
      sampleRequest({ executionId: 'e2e-cli', taskToken: 'token-cli', edge: { from: 'staging', to: 'prod' }, requester: 'rita@example.com', expiresAt: new Date(Date.now() + 3600_000).toISOString() }),
    );
    const cli = (...args: string[]) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn('npx', ['tsx', 'bin/regman.ts', ...args, '--state-dir', state], { env: { ...process.env, CI: '1' } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => done({ code, stdout, stderr }));
      });
    const [list, own, none] = await Promise.all([
      cli('approvals', 'list', '--json'),
      cli('approve', 'e2e-cli', '--as', 'rita@example.com'),
      cli('reject', 'e2e-cli', '--as', 'bob@example.com'),
    ]);
    const pending = JSON.parse(list.stdout) as { requestId: string }[];
    expect(pending.map((p) => p.requestId)).toContain('e2e-cli');
    expect(list.stdout).not.toContain('token-cli');
    expect(own.code).not.toBe(0);
    expect(own.stderr).toContain('separation of duties');
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/reason/);
    const ok = await cli('approve', 'e2e-cli', '--as', 'alice@example.com', '--comment', 'ok by me');
    expect(ok.stdout).toContain('approved e2e-cli: the request is PENDING');
    const rejected = await cli('reject', 'e2e-cli', '--as', 'bob@example.com', '--reason', 'not this week');
    expect(rejected.stdout).toContain('the request is REJECTED');
    expect(await approvals.completer.wait('token-cli')).toMatchObject({ ok: false, cause: expect.stringContaining('not this week') });
    const decided = await audit.query({ action: 'approval.approve' });
    expect(decided.find((r) => r.details?.channel === 'cli')?.actor).toBe('alice@example.com');
  }, 60_000);

  it('lists pending approvals and recent promotions on the console', async () => {
    const pending = await (await fetch(`${control.url}/approvals`)).text();
    expect(pending).toContain('Pending approvals');
    const recent = await (await fetch(`${control.url}/promotions`)).text();
    expect(recent).toContain('REJECTED');
    expect(recent).toContain('APPROVED');
  });
});
