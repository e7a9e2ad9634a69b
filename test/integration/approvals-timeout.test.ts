// An approval link after the real state timeout: promotion.asl.json (aws-local-stepfunctions) with a one-second approval
// window from the config; once RequestApproval times out, the link renders the expired page and a POST is refused (410), audited.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoApprovalStore } from '../../functions/approvals/dynamo-store.ts';
import type { ApprovalMessage } from '../../functions/approvals/notify/types.ts';
import { approvalPolicyFor } from '../../functions/approvals/policy.ts';
import { ApprovalService } from '../../functions/approvals/service.ts';
import { AuditLog, InMemoryAuditStore } from '../../functions/audit/index.ts';
import { APPROVAL_ROUTES } from '../../functions/handlers/approvals-http.ts';
import { createConsoleHttpHandler } from '../../functions/handlers/console-http.ts';
import type { HttpApiEventV2 } from '../../functions/handlers/http-api.ts';
import type { PromotionDeps } from '../../functions/promotion/deps.ts';
import { DynamoPromotionStore } from '../../functions/promotion/store.ts';
import { closeAdapters, createAdapters } from '../../functions/registries/factory.ts';
import { createLocalPromotions, type LocalPromotions } from '../../local/promotions.ts';
import { devStagingConfig } from '../helpers/promotion-config.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';
import { pushImage } from '../helpers/images.ts';
import { startRegistry, type RunningRegistry } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

let dev: RunningRegistry;
let stg: RunningRegistry;
let db: DynaliteHandle;
let dir: string;
let deps: PromotionDeps;
let service: ApprovalService;
let promotions: LocalPromotions;
const auditStore = new InMemoryAuditStore();
const sent: ApprovalMessage[] = [];

const event = (method: string, path: string, body?: string): HttpApiEventV2 => ({
  version: '2.0',
  routeKey: `${method} /approvals/{execution}/{token}`,
  rawPath: path,
  rawQueryString: '',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  requestContext: { http: { method, path }, stage: '$default' },
  ...(body !== undefined ? { body: Buffer.from(body).toString('base64'), isBase64Encoded: true } : {}),
});

beforeAll(async () => {
  [dev, stg, db] = await Promise.all([startRegistry(), startRegistry(), startDynalite()]);
  dir = mkdtempSync(join(tmpdir(), 'regman-approvals-timeout-'));
  // 0.0003 h rounds to a 1 s TimeoutSecondsPath (functions/promotion/validate.ts approvalTimeoutSeconds).
  const config = await devStagingConfig(dir, { dev: dev.url, stg: stg.url }, '{ approval: { approvers: [alice@example.com], required: 1, expiresInHours: 0.0003 } }');
  const audit = new AuditLog(auditStore);
  service = new ApprovalService({
    store: new DynamoApprovalStore({ docClient: db.docClient, tableName: db.tableNames.approvals }),
    key: async () => Buffer.alloc(32, 7),
    completer: { succeed: (t, o) => promotions.completer.succeed(t, o), fail: (t, e, c) => promotions.completer.fail(t, e, c) },
    audit,
    policyFor: (request) => approvalPolicyFor(config, request.edge),
    consoleUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
    senderFor: () => ({ send: async (m) => void sent.push(m) }),
    log: () => undefined,
  });
  deps = {
    config,
    adapters: createAdapters(config, { ociOptions: { retry: { maxAttempts: 1 } } }),
    audit,
    store: new DynamoPromotionStore({ docClient: db.docClient, tables: db.tableNames }),
    approvals: service,
    copyOptions: { retries: 0, retryDelayMs: 1 },
  };
  promotions = createLocalPromotions({ deps: () => deps, retryIntervalMs: 0 });
  await pushImage(dev, 'app', 'v1', { layers: [64] });
}, 120_000);

afterAll(async () => {
  if (deps) closeAdapters(deps.adapters.values());
  await Promise.all([dev?.stop(), stg?.stop(), db?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('an approval link after the waiting state timed out', () => {
  it('renders the expired page, refuses a POST with 410 and an audit record, and staging gets no tag', async () => {
    const { executionId } = await promotions.start({ repository: 'app', tag: 'v1', from: 'dev', to: 'staging', requester: 'cli:dana' });
    const result = await promotions.wait(executionId);
    expect(result.status).toBe('FAILED');
    expect(result.states).toEqual(expect.arrayContaining(['RequestApproval', 'RecordTimedOut', 'PromotionTimedOut']));
    expect((await (deps.store as DynamoPromotionStore).getExecution(executionId))?.status).toBe('TIMED_OUT');
    // RecordTimedOut ended the request: the links stop at the timeout, not only at their own expiry.
    expect((await service.getSnapshot(executionId))?.request.state).toBe('EXPIRED');

    const link = sent.find((m) => m.executionId === executionId)!.link;
    const path = new URL(link).pathname;
    const handler = createConsoleHttpHandler(APPROVAL_ROUTES, () => ({ approvals: service }));
    const page = await handler(event('GET', path));
    expect(page.statusCode).toBe(410);
    expect(page.body).toContain('This link has expired');
    expect(page.body).toContain('data-code="APPROVAL_LINK_EXPIRED"');

    const post = await handler(event('POST', path, 'csrf=x&action=approve'));
    expect(post.statusCode).toBe(410);
    const refused = (await new AuditLog(auditStore).query({ action: 'approval.refused' })).filter((r) => r.details?.executionId === executionId);
    expect(refused.map((r) => [r.errorCode, r.details?.attempted])).toEqual(expect.arrayContaining([['APPROVAL_LINK_EXPIRED', 'view'], ['APPROVAL_LINK_EXPIRED', 'approve']]));
    expect(refused.every((r) => r.actor === 'alice@example.com' && r.outcome === 'rejected')).toBe(true);
    await expect(skopeoDigest(`${stg.host}/app:v1`)).rejects.toThrow();
  }, 30_000);
});
