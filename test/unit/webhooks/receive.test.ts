// receiveWebhook, the Lambda handler around it and the StartExecution starter: every answer the endpoint gives, with in-memory parts.
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { AuditLog, InMemoryAuditStore } from '../../../functions/audit/index.ts';
import { createWebhookHandler } from '../../../functions/handlers/webhook.ts';
import type { EdgeWithTriggers } from '../../../functions/webhooks/map-event.ts';
import { receiveWebhook, type WebhookDeps, type WebhookRequest } from '../../../functions/webhooks/receive.ts';
import { sfnPromotionStarter } from '../../../functions/webhooks/sfn-starter.ts';
import { githubSignature, memoryDeliveryLog } from '../../../functions/webhooks/verify.ts';

const SECRET = 'hook-secret';
const EDGES: EdgeWithTriggers[] = [
  { from: 'dev', to: 'staging', triggers: [{ provider: 'github', event: 'release', project: 'acme/app', tags: ['v*'], repository: 'team/app' }] },
  { from: 'staging', to: 'prod', triggers: [{ provider: 'github', event: 'release', tags: ['v*'], repository: 'team/app' }, { provider: 'gitlab', event: 'tag', tags: ['v*'], repository: 'team/app' }] },
];
const RELEASE = JSON.stringify({ action: 'published', release: { tag_name: 'v2.0.0' }, repository: { full_name: 'acme/app' }, sender: { login: 'octocat' } });

function github(body: string, over: Record<string, string> = {}): WebhookRequest {
  return { provider: 'github', body: Buffer.from(body), headers: { 'x-github-event': 'release', 'x-github-delivery': 'd-1', 'x-hub-signature-256': githubSignature(SECRET, body), ...over } };
}

describe('receiveWebhook', () => {
  let log: AuditLog;
  let started: Parameters<WebhookDeps['start']>[0][];
  let deps: WebhookDeps;
  beforeEach(() => {
    log = new AuditLog(new InMemoryAuditStore());
    started = [];
    deps = {
      secrets: async () => [SECRET],
      edges: EDGES,
      deliveries: memoryDeliveryLog(),
      audit: log,
      start: async (p) => {
        started.push(p);
        return { executionId: `exec-${started.length}`, status: 'RUNNING' };
      },
    };
  });

  it('a signed release starts one promotion per matching edge trigger, as the webhook requester, and audits it', async () => {
    const res = await receiveWebhook(github(RELEASE), deps);
    expect(res.status).toBe(200);
    expect(res.body.promotions?.map((p) => [p.from, p.to, p.executionId])).toEqual([['dev', 'staging', 'exec-1'], ['staging', 'prod', 'exec-2']]);
    expect(started.map((p) => [p.requester, p.correlationId, p.repository, p.tag])).toEqual([
      ['webhook:github:octocat', 'd-1', 'team/app', 'v2.0.0'],
      ['webhook:github:octocat', 'd-1', 'team/app', 'v2.0.0'],
    ]);
    const [record] = await log.query({ action: 'webhook.request' });
    expect(record).toMatchObject({ outcome: 'success', actor: 'webhook:github:octocat', repository: 'team/app', correlationId: 'd-1' });
  });

  it.each([
    ['no signature', { 'x-hub-signature-256': '' }, 'missing-signature', 'MISSING_SIGNATURE'],
    ['another secret', { 'x-hub-signature-256': githubSignature('other', RELEASE) }, 'bad-signature', 'BAD_SIGNATURE'],
  ])('%s: 401, nothing started, delivery not claimed, audited as rejected', async (_name, headers, problem, code) => {
    const res = await receiveWebhook(github(RELEASE, headers), deps);
    expect(res).toMatchObject({ status: 401, body: { problem } });
    expect(started).toEqual([]);
    const [record] = await log.query({ action: 'webhook.request' });
    expect(record).toMatchObject({ outcome: 'rejected', errorCode: code, actor: 'webhook:github', details: { provider: 'github', problem, event: 'release' } });
    // The same delivery id, properly signed, still goes through.
    expect((await receiveWebhook(github(RELEASE), deps)).status).toBe(200);
  });

  it('a redelivered id is answered 200 and starts nothing again', async () => {
    await receiveWebhook(github(RELEASE), deps);
    const again = await receiveWebhook(github(RELEASE), deps);
    expect(again).toMatchObject({ status: 200, body: { duplicate: true, deliveryId: 'd-1' } });
    expect(started).toHaveLength(2);
    expect((await log.query({ action: 'webhook.request' })).map((r) => r.outcome).sort()).toEqual(['skipped', 'success']);
  });

  it.each([
    ['a ping', github('{"zen":"hi"}', { 'x-github-event': 'ping' }), 200, /event ping starts no promotion/],
    ['an unmatched tag', github(RELEASE.replace('v2.0.0', 'nightly')), 200, /no promotion trigger matches release nightly in acme\/app/],
    ['a body that is not JSON', github('not json'), 400, undefined],
    ['no delivery id', github(RELEASE, { 'x-github-delivery': '' }), 400, undefined],
  ])('%s starts nothing', async (_name, req, status, ignored) => {
    const res = await receiveWebhook(req, deps);
    expect(res.status).toBe(status);
    if (ignored) expect(res.body.ignored).toMatch(ignored);
    else expect(res.body.error).toBeTruthy();
    expect(started).toEqual([]);
  });

  it('reads a GitHub form-encoded payload and a GitLab tag push with its token', async () => {
    const form = `payload=${encodeURIComponent(RELEASE)}`;
    const res = await receiveWebhook(github(form, { 'content-type': 'application/x-www-form-urlencoded' }), deps);
    expect(res.body.promotions).toHaveLength(2);
    const tagPush = JSON.stringify({ object_kind: 'tag_push', ref: 'refs/tags/v3', after: 'b'.repeat(40), project: { path_with_namespace: 'grp/app' }, user_username: 'gl' });
    const gl = await receiveWebhook({ provider: 'gitlab', body: Buffer.from(tagPush), headers: { 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': SECRET, 'x-gitlab-event-uuid': 'g-1' } }, deps);
    expect(gl.body.promotions?.map((p) => [p.to, p.tag, p.requestedBy])).toEqual([['prod', 'v3', 'gitlab:gl']]);
  });

  it('when nothing can be started: 502, audited as a failure, and the delivery is released for a redelivery', async () => {
    let fail = true;
    deps = { ...deps, start: async () => { if (fail) throw new Error('state machine unavailable'); return { executionId: 'later' }; } };
    const res = await receiveWebhook(github(RELEASE), deps);
    expect(res).toMatchObject({ status: 502, body: { error: expect.stringMatching(/state machine unavailable/) } });
    expect((await log.query({ action: 'webhook.request' }))[0]).toMatchObject({ outcome: 'failure', errorCode: 'START_FAILED' });
    fail = false;
    expect((await receiveWebhook(github(RELEASE), deps)).body.promotions?.[0]?.executionId).toBe('later');
  });
});

describe('createWebhookHandler (API Gateway HTTP API)', () => {
  const handler = createWebhookHandler(async () => ({
    secrets: async () => [SECRET], edges: EDGES, deliveries: memoryDeliveryLog(), audit: new AuditLog(new InMemoryAuditStore()),
    start: async () => ({ executionId: 'e-1', status: 'RUNNING' }),
  }));

  it('verifies the signature over the base64-decoded raw body and answers JSON', async () => {
    const res = await handler({
      rawPath: '/webhooks/github', isBase64Encoded: true, body: Buffer.from(RELEASE).toString('base64'),
      headers: { 'x-github-event': 'release', 'x-github-delivery': 'h-1', 'x-hub-signature-256': githubSignature(SECRET, RELEASE) },
      requestContext: { http: { method: 'POST', sourceIp: '192.0.2.1' } },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect((JSON.parse(res.body) as { promotions: { executionId: string }[] }).promotions.map((p) => p.executionId)).toEqual(['e-1', 'e-1']);
  });

  it.each([
    [{ rawPath: '/webhooks/bitbucket' }, 404],
    [{ pathParameters: { provider: 'github' }, requestContext: { http: { method: 'GET' } } }, 405],
    [{ rawPath: '/webhooks/gitlab', headers: {}, body: '{}' }, 401],
  ])('%j → %i', async (event, status) => {
    expect((await handler(event)).statusCode).toBe(status);
  });
});

describe('sfnPromotionStarter', () => {
  it('starts the promotion state machine with a named execution and a webhook-triggered input', async () => {
    const sfn = mockClient(SFNClient);
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:promo:x' });
    const start = sfnPromotionStarter(sfn as unknown as SFNClient, 'arn:aws:states:eu-west-1:123456789012:stateMachine:promo', () => new Date('2026-01-25T14:30:00Z'));
    const out = await start({ from: 'dev', to: 'staging', repository: 'team/app', tag: 'v1', requestedBy: 'github:octocat', requester: 'webhook:github:octocat', correlationId: 'd-9' });
    expect(out.executionId).toMatch(/^promo-20260125143000-[0-9a-f]{8}$/);
    const call = sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input;
    expect(call.name).toBe(out.executionId);
    expect(JSON.parse(call.input!)).toMatchObject({ executionId: out.executionId, correlationId: 'd-9', trigger: 'webhook', requester: 'webhook:github:octocat', requestedAt: '2026-01-25T14:30:00.000Z', repository: 'team/app' });
    sfn.restore();
  });
});
