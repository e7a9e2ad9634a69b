// The local stack's CI webhook endpoint over real HTTP: signed GitHub / GitLab deliveries start the mapped promotion, bad ones get 401 and an audit record, a replay starts nothing.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import { createDynamoClients } from '../../functions/dynamo/client.ts';
import { DynamoPromotionStore } from '../../functions/promotion/store.ts';
import type { PromotionRecord } from '../../functions/promotion/types.ts';
import { securityEventOf } from '../../functions/reports/compliance.ts';
import { githubSignature } from '../../functions/webhooks/verify.ts';
import { startLocalStack, type LocalStack } from '../../local/stack.ts';
import { pushImage } from '../helpers/images.ts';
import { assertRegistryInstalled } from '../helpers/registry.ts';
import { skopeoDigest } from '../helpers/skopeo.ts';

const CONFIG = `version: 1
registries:
  dev: { kind: oci, url: "\${REGMAN_E2E_HOOK_DEV_URL}", public: true }
  staging: { kind: oci, url: "\${REGMAN_E2E_HOOK_STAGING_URL}", public: true }
  dr: { kind: oci, url: "\${REGMAN_E2E_HOOK_DR_URL}", public: true }
environments:
  dev: { registries: [dev] }
  staging: { registries: [staging] }
replication:
  - { name: dr, source: dev, repositories: ["mirror/**"], targets: [{ registry: dr }] }
promotion:
  - from: dev
    to: staging
    triggers:
      - { provider: github, event: release, project: acme/app, tags: ["v*"], repository: app }
      - { provider: gitlab, event: tag, project: acme/app, tags: ["/^v\\\\d+\\\\.\\\\d+\\\\.\\\\d+$/"], repository: app }
`;

const release = (tag: string) => JSON.stringify({ action: 'published', release: { tag_name: tag }, repository: { full_name: 'acme/app' }, sender: { login: 'octocat' } });

describe('local stack CI webhooks (e2e, real HTTP)', () => {
  let dir: string;
  let stack: LocalStack;
  let secret: string;
  const post = async (provider: 'github' | 'gitlab', body: string, headers: Record<string, string>) => {
    const res = await fetch(stack.endpoints.webhooks![provider], { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, body: (await res.json()) as { error?: string; problem?: string; duplicate?: boolean; ignored?: string; promotions?: { executionId?: string; status?: string; tag: string }[] } };
  };
  const github = (body: string, delivery: string, signature = githubSignature(secret, body)) =>
    post('github', body, { 'x-github-event': 'release', 'x-github-delivery': delivery, ...(signature ? { 'x-hub-signature-256': signature } : {}) });
  const record = async (id: string) => (await (await fetch(`${stack.endpoints.control}/promotions/${id}`)).json()) as PromotionRecord;
  const settled = async (id: string) => {
    for (let i = 0; i < 400; i += 1) {
      const r = await record(id);
      if (r.status !== 'RUNNING') return r;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return record(id);
  };
  const promotionsOf = async () => (await (await fetch(`${stack.endpoints.control}/promotions?repository=app`)).json()) as PromotionRecord[];

  beforeAll(async () => {
    assertRegistryInstalled();
    dir = mkdtempSync(join(tmpdir(), 'regman-e2e-webhook-'));
    const configFile = join(dir, 'local.yaml');
    writeFileSync(configFile, CONFIG);
    stack = await startLocalStack({ configFile, stateDir: join(dir, 'state'), retryDelaysMs: [200, 400] });
    secret = readFileSync(stack.endpoints.webhooks!.secretFile, 'utf8').trim();
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('endpoints.json names both webhook URLs and a secret file only its owner reads', () => {
    expect(stack.endpoints.webhooks).toEqual({
      github: `${stack.endpoints.control}/webhooks/github`,
      gitlab: `${stack.endpoints.control}/webhooks/gitlab`,
      secretFile: join(dir, 'state', 'webhook-secret'),
    });
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(stack.endpoints.webhooks!.secretFile).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(join(dir, 'state', 'endpoints.json'), 'utf8')) as { webhooks: unknown };
    expect(written.webhooks).toEqual(stack.endpoints.webhooks);
  });

  it('a signed GitHub release starts the mapped promotion once; a redelivery is answered 200 and starts nothing', async () => {
    const image = await pushImage({ url: stack.endpoints.registries.dev! }, 'app', 'v1.2.0', { layers: [64] });
    const body = release('v1.2.0');
    const first = await github(body, 'delivery-1');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const executionId = first.body.promotions?.[0]?.executionId;
    expect(executionId).toBeDefined();
    const done = await settled(executionId!);
    expect(done).toMatchObject({ status: 'SUCCEEDED', digest: image.digest, requester: 'webhook:github:octocat', from: 'dev', to: 'staging', tag: 'v1.2.0' });
    expect(await skopeoDigest(`${stack.endpoints.registries.staging!.replace(/^http:\/\//, '')}/app:v1.2.0`)).toBe(image.digest);

    const again = await github(body, 'delivery-1');
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(again.body.promotions).toBeUndefined();
    expect((await promotionsOf()).map((r) => r.executionId)).toEqual([executionId]);
  }, 60_000);

  it('a bad or missing signature gets 401 with a clear body, starts nothing, and is a security event in the audit log', async () => {
    const before = (await promotionsOf()).length;
    const body = release('v1.2.0');
    const bad = await github(body, 'delivery-bad', githubSignature('not-the-secret', body));
    expect(bad).toMatchObject({ status: 401, body: { problem: 'bad-signature', error: expect.stringMatching(/signature does not match/) } });
    const missing = await github(body, 'delivery-unsigned', '');
    expect(missing).toMatchObject({ status: 401, body: { problem: 'missing-signature', error: expect.stringMatching(/without X-Hub-Signature-256/) } });
    const gitlab = await post('gitlab', '{}', { 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': 'wrong', 'x-gitlab-event-uuid': 'u-bad' });
    expect(gitlab).toMatchObject({ status: 401, body: { problem: 'bad-signature' } });
    expect((await promotionsOf()).length).toBe(before);

    const audit = openDynamoAuditLog({ endpoint: stack.endpoints.dynamodb.endpoint, tableName: stack.endpoints.dynamodb.tables.audit!, region: 'local' });
    try {
      const records = await audit.log.query({ action: 'webhook.request' });
      const events = records.map(securityEventOf).filter((e) => e !== undefined);
      expect(events.map((e) => [e.kind, e.actor, e.why])).toEqual(expect.arrayContaining([
        ['bad-webhook-signature', 'webhook:github', expect.stringMatching(/signature does not match/)],
        ['bad-webhook-signature', 'webhook:github', expect.stringMatching(/without X-Hub-Signature-256/)],
        ['bad-webhook-signature', 'webhook:gitlab', expect.stringMatching(/token does not match/)],
      ]));
      expect(events).toHaveLength(3);
      // The accepted delivery and its replay are audited, but not as security events.
      expect(records.filter((r) => r.outcome === 'success').map((r) => r.details?.deliveryId)).toEqual(['delivery-1']);
      expect(records.filter((r) => r.outcome === 'skipped').map((r) => r.details?.duplicate)).toEqual([true]);
    } finally {
      audit.close();
    }
  }, 30_000);

  it('a GitLab tag push with the secret token starts its promotion; an unmatched tag is ignored', async () => {
    const image = await pushImage({ url: stack.endpoints.registries.dev! }, 'app', 'v1.3.0', { layers: [64] });
    const push = (tag: string) => JSON.stringify({ object_kind: 'tag_push', ref: `refs/tags/${tag}`, after: 'a'.repeat(40), project: { path_with_namespace: 'acme/app' }, user_username: 'gl-user' });
    const started = await post('gitlab', push('v1.3.0'), { 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': secret, 'x-gitlab-event-uuid': 'gl-1' });
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    const done = await settled(started.body.promotions![0]!.executionId!);
    expect(done).toMatchObject({ status: 'SUCCEEDED', digest: image.digest, requester: 'webhook:gitlab:gl-user' });
    const ignored = await post('gitlab', push('nightly'), { 'x-gitlab-event': 'Tag Push Hook', 'x-gitlab-token': secret, 'x-gitlab-event-uuid': 'gl-2' });
    expect(ignored).toMatchObject({ status: 200, body: { ignored: expect.stringMatching(/no promotion trigger matches tag nightly/) } });
  }, 60_000);

  it('a hold refuses a webhook-triggered promotion: the answer says so and no tag is written', async () => {
    await pushImage({ url: stack.endpoints.registries.dev! }, 'app', 'v1.4.0', { layers: [64] });
    const { docClient, destroy } = createDynamoClients({ endpoint: stack.endpoints.dynamodb.endpoint, region: 'local' });
    const t = stack.endpoints.dynamodb.tables;
    const store = new DynamoPromotionStore({ docClient, tables: { promotions: t.promotions!, quarantine: t.quarantine!, holds: t.holds! } });
    try {
      await store.putHold({ environment: 'staging', repository: 'app', reason: 'incident 42', by: 'cli:ops', time: new Date().toISOString() });
      const res = await github(release('v1.4.0'), 'delivery-held');
      expect(res.status).toBe(200);
      const refused = res.body.promotions![0]!;
      expect(refused.status).toBe('FAILED');
      expect((await settled(refused.executionId!)).error).toMatchObject({ code: 'HELD' });
      const tags = (await (await fetch(`${stack.endpoints.registries.staging}/v2/app/tags/list`)).json()) as { tags: string[] };
      expect(tags.tags).not.toContain('v1.4.0');
    } finally {
      await store.deleteHold('staging', 'app');
      destroy();
    }
  }, 60_000);
});
