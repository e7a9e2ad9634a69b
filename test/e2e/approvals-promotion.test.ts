// The promotion ASL (local Step Functions) with the real approvals engine: link from the outbox, Approve in Chromium,
// the workflow finishes and staging holds the digest (skopeo); a rejection with a reason ends REJECTED with no tag.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboxEntry } from '../../functions/approvals/notify/outbox.ts';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import type { PromotionDeps } from '../../functions/promotion/deps.ts';
import { DynamoPromotionStore } from '../../functions/promotion/store.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { SELF_AUTHENTICATED_PREFIXES } from '../../functions/web/routes.ts';
import { startLocalApprovals, type LocalApprovals } from '../../local/approvals.ts';
import { newControlToken } from '../../local/control-auth.ts';
import { startControlServer, type ControlServer } from '../../local/control-server.ts';
import { createLocalPromotions, type LocalPromotions } from '../../local/promotions.ts';
import { devStagingConfig } from '../helpers/promotion-config.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { pushImage, type PushedImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

let dev: RunningRegistry;
let stg: RunningRegistry;
let db: DynaliteHandle;
let dir: string;
let control: ControlServer;
let approvals: LocalApprovals;
let promotions: LocalPromotions;
let deps: PromotionDeps;
let browser: Browser;
let v1: PushedImage;

beforeAll(async () => {
  [dev, stg, db] = await Promise.all([startRegistry(), startRegistry(), startDynalite()]);
  dir = mkdtempSync(join(tmpdir(), 'regman-approvals-promotion-'));
  const config = await devStagingConfig(dir, { dev: dev.url, stg: stg.url }, '{ approval: { approvers: [alice@example.com], required: 1 } }');
  let serve: LocalApprovals['serve'] = async () => false;
  control = await startControlServer({
    log: () => undefined,
    controlToken: newControlToken(),
    onNotification: () => undefined,
    onReconcile: async () => ({}),
    onConsole: (req, res) => serve(req, res),
    exemptPathPrefixes: SELF_AUTHENTICATED_PREFIXES,
  });
  const audit = new AuditLog(new InMemoryAuditStore());
  approvals = await startLocalApprovals({
    stateDir: dir,
    config,
    dynamoEndpoint: db.endpoint,
    tableName: db.tableNames.approvals,
    audit,
    consoleUrl: control.url,
    log: () => undefined,
    completer: { succeed: (t, o) => promotions.completer.succeed(t, o), fail: (t, e, c) => promotions.completer.fail(t, e, c) },
  });
  serve = (req, res) => approvals.serve(req, res);
  deps = {
    config,
    adapters: createAdapters(config, { ociOptions: { retry: { maxAttempts: 1 } } }),
    audit,
    store: new DynamoPromotionStore({ docClient: db.docClient, tables: db.tableNames }),
    approvals: approvals.service,
    copyOptions: { retries: 0, retryDelayMs: 1 },
  };
  promotions = createLocalPromotions({ deps: () => deps, retryIntervalMs: 0 });
  v1 = await pushImage(dev, 'app', 'v1', { layers: [256, 512] });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (deps) closeAdapters(deps.adapters.values());
  approvals?.close();
  await control?.stop();
  await Promise.all([dev?.stop(), stg?.stop(), db?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function linkOf(executionId: string): Promise<string> {
  for (let i = 0; i < 300; i += 1) {
    try {
      const entry = readFileSync(join(dir, 'outbox.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as OutboxEntry)
        .find((e) => e.executionId === executionId);
      if (entry) return entry.link;
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no outbox link for ${executionId}`);
}

describe('promotion dev → staging through the approvals engine', () => {
  it('waits on GET, refuses a POST without CSRF, approves in Chromium and tags staging', async () => {
    const { executionId } = await promotions.start({ repository: 'app', tag: 'v1', from: 'dev', to: 'staging', requester: 'cli:dana' });
    const link = await linkOf(executionId);
    expect((await fetch(link)).status).toBe(200);
    const noCsrf = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=approve' });
    expect(noCsrf.status).toBe(403);
    expect((await approvals.service.getSnapshot(executionId))?.request.state).toBe('PENDING');
    expect(await skopeoDigest(`${stg.host}/app:v1`).catch(() => undefined)).toBeUndefined();

    const page = await browser.newPage();
    await page.goto(link);
    expect(await page.getByTestId('digest').textContent()).toBe(v1.digest);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForLoadState();
    await page.close();

    const result = await promotions.wait(executionId);
    expect(result.status).toBe('SUCCEEDED');
    expect(await skopeoDigest(`${stg.host}/app:v1`)).toBe(v1.digest);
  }, 60_000);

  it('a rejection with a reason ends REJECTED and writes no tag', async () => {
    await pushImage(dev, 'app', 'v2', { layers: [128] });
    const { executionId } = await promotions.start({ repository: 'app', tag: 'v2', from: 'dev', to: 'staging', requester: 'cli:dana' });
    const link = await linkOf(executionId);
    const csrf = /name="csrf" value="([^"]+)"/.exec(await (await fetch(link)).text())![1]!;
    const res = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ action: 'reject', csrf, comment: 'not this build' }).toString() });
    expect(res.status).toBe(200);
    await promotions.wait(executionId);
    const record = await (deps.store as DynamoPromotionStore).getExecution(executionId);
    expect(record?.status).toBe('REJECTED');
    expect(await skopeoDigest(`${stg.host}/app:v2`).catch(() => undefined)).toBeUndefined();
  }, 60_000);
});
