// The approvals and console Lambdas end to end over dynalite: HTTP API 2.0 events in, SES/Slack/SFN/Secrets Manager mocked at the SDK (aws-sdk-client-mock).
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { SFNClient, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APPROVALS_ENV } from '../../functions/approvals/env-names.ts';
import type { PostJson } from '../../functions/approvals/notify/slack.ts';
import { AuditLog, DynamoAuditStore } from '../../functions/audit/index.ts';
import { readEnvironment } from '../../functions/env.ts';
import { ApprovalService } from '../../functions/approvals/service.ts';
import { approvalRequesterFromEnvironment, approvalsDepsFromEnvironment, type ApprovalsClients } from '../../functions/handlers/approvals-deps.ts';
import { APPROVAL_ROUTES, createApprovalsHttpHandler } from '../../functions/handlers/approvals-http.ts';
import { createConsoleHttpHandler } from '../../functions/handlers/console-http.ts';
import { createConsoleHandler } from '../../functions/handlers/console.ts';
import type { HttpApiEventV2 } from '../../functions/handlers/http-api.ts';
import { clearSecrets } from '../../functions/oci/redact.ts';
import { sampleRequest } from '../unit/approvals/fixtures.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

const HMAC_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:RegistryManager-ApprovalsHmacKey-AbCdEf';
const SLACK_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:RegistryManager-SlackSigningSecret-GhIjKl';
const HMAC_TEXT = 'Q7d9kLm2Vx8ZpR4tYb6Nc1Hs3Jf5Gw0Ae7Ku9Lo2Pi4Mq6Wr8Ty1Ub3Nv5Xz7Ca9';
const SIGNING_SECRET = 'slack-signing-0123456789abcdef';
const BOT_TOKEN = 'xoxb-test-bot-token-1234';
const CONSOLE = 'https://abc123.execute-api.eu-west-1.amazonaws.com';

const sm = mockClient(SecretsManagerClient);
const ses = mockClient(SESClient);
const sfn = mockClient(SFNClient);

let db: DynaliteHandle;
let dir: string;
let env: ReturnType<typeof readEnvironment>;
const posts: { url: string; body: unknown; headers?: Record<string, string> }[] = [];
const post: PostJson = async (url, body, headers) => {
  posts.push({ url, body, ...(headers ? { headers } : {}) });
  return { status: 200, text: '{"ok":true}' };
};
const clients = (): ApprovalsClients => ({
  sfn: new SFNClient({ region: 'eu-west-1' }),
  ses: new SESClient({ region: 'eu-west-1' }),
  secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
  post,
  slackApiBase: 'https://slack.test/api',
});

/** An HTTP API 2.0 event for `method path` (form bodies base64-encoded, as API Gateway sends them). */
function httpEvent(method: string, path: string, body?: string, headers: Record<string, string> = {}): HttpApiEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'x-forwarded-proto': 'https', ...headers },
    requestContext: { http: { method, path }, stage: '$default', requestId: 'r1' },
    ...(body !== undefined ? { body: Buffer.from(body).toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
}

beforeAll(async () => {
  db = await startDynalite();
  dir = mkdtempSync(join(tmpdir(), 'regman-approvals-lambda-'));
  const config = {
    version: 1,
    registries: { dev: { kind: 'oci', url: 'http://127.0.0.1:1', public: true }, stg: { kind: 'oci', url: 'http://127.0.0.1:2', public: true } },
    environments: { dev: { registries: ['dev'] }, staging: { registries: ['stg'] } },
    promotion: [
      {
        from: 'dev',
        to: 'staging',
        gates: {
          approval: {
            approvers: ['alice@acme.example', 'U1'],
            required: 1,
            channels: { email: { from: 'releases@acme.example' }, slack: { botTokenSecretName: 'regman/slack-bot', channel: 'C1' } },
          },
        },
      },
    ],
  };
  writeFileSync(join(dir, 'regman.config.json'), JSON.stringify(config));
  env = readEnvironment({
    [APPROVALS_ENV.table]: db.tableNames.approvals,
    AUDIT_TABLE: db.tableNames.audit,
    REGMAN_DYNAMODB_ENDPOINT: db.endpoint,
    [APPROVALS_ENV.hmacKeySecret]: HMAC_ARN,
    [APPROVALS_ENV.slackSigningSecret]: SLACK_ARN,
    [APPROVALS_ENV.consoleUrl]: CONSOLE,
    REGMAN_CONFIG_PATH: join(dir, 'regman.config.json'),
    AWS_REGION: 'eu-west-1',
  });
  sm.on(GetSecretValueCommand, { SecretId: HMAC_ARN })
    .resolves({ SecretString: HMAC_TEXT })
    .on(GetSecretValueCommand, { SecretId: SLACK_ARN })
    .resolves({ SecretString: `${SIGNING_SECRET}\n` })
    .on(GetSecretValueCommand, { SecretId: 'regman/slack-bot' })
    .resolves({ SecretString: BOT_TOKEN });
  ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });
  sfn.on(SendTaskSuccessCommand).resolves({});
}, 60_000);

afterAll(async () => {
  sm.restore();
  ses.restore();
  sfn.restore();
  clearSecrets();
  await db?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('approvals Lambdas (HTTP API 2.0, dynalite, mocked AWS SDK)', () => {
  const approvals = () => createApprovalsHttpHandler(env, dir, clients());
  let emailedLink = '';

  it('RequestApproval through the environment-built engine: one SES e-mail from the configured sender, one Slack app message with buttons', async () => {
    const deps = await approvalsDepsFromEnvironment(env, dir, clients());
    await deps.service.request(sampleRequest({ executionId: 'promo-aws-1', taskToken: 'TOKEN-1' }));

    const mails = ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input);
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ Source: 'releases@acme.example', Destination: { ToAddresses: ['alice@acme.example'] } });
    emailedLink = /https:\S+/.exec(mails[0]!.Message!.Body!.Text!.Data!)![0];
    expect(emailedLink.startsWith(`${CONSOLE}/approvals/promo-aws-1/`)).toBe(true);
    expect(mails[0]!.Message!.Body!.Text!.Data).not.toContain('TOKEN-1');

    const slack = posts.find((p) => p.url === 'https://slack.test/api/chat.postMessage')!;
    expect(slack.headers).toEqual({ authorization: `Bearer ${BOT_TOKEN}` });
    expect(JSON.stringify(slack.body)).toContain('"action_id":"approve"');
    expect(JSON.stringify(slack.body)).not.toContain('TOKEN-1');
  });

  it('GET renders the page and changes nothing; the form POST approves and calls SendTaskSuccess with the stored token', async () => {
    const keyReads = sm.commandCalls(GetSecretValueCommand, { SecretId: HMAC_ARN }).length;
    const handler = approvals();
    const path = new URL(emailedLink).pathname;
    const page = await handler(httpEvent('GET', path, undefined, { 'user-agent': 'Slackbot-LinkExpanding 1.0' }));
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain(sampleRequest().digest);
    await handler(httpEvent('GET', path));
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);

    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const noCsrf = await handler(httpEvent('POST', path, 'action=approve', { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(noCsrf.statusCode).toBe(403);
    const done = await handler(httpEvent('POST', path, `csrf=${encodeURIComponent(csrf)}&action=approve&comment=lgtm`, { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain('the promotion goes on');
    const calls = sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.taskToken).toBe('TOKEN-1');
    expect(JSON.parse(calls[0]!.output!)).toMatchObject({ approved: true, approvers: [{ identity: 'alice@acme.example', channel: 'email', comment: 'lgtm' }] });

    const replay = await handler(httpEvent('POST', path, `csrf=${encodeURIComponent(csrf)}&action=approve`, { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(replay.statusCode).toBe(409);
    // One container, one read of the key for the whole sequence.
    expect(sm.commandCalls(GetSecretValueCommand, { SecretId: HMAC_ARN })).toHaveLength(keyReads + 1);
  });

  it('a Slack button click, signed with the secret from Secrets Manager, approves as the Slack user; a forged one is refused', async () => {
    const deps = await approvalsDepsFromEnvironment(env, dir, clients());
    await deps.service.request(sampleRequest({ executionId: 'promo-aws-2', taskToken: 'TOKEN-2' }));
    const handler = approvals();
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U1' }, actions: [{ action_id: 'approve', value: 'promo-aws-2' }], response_url: 'https://hooks.slack.test/r/1' }))}`;
    const ts = String(Math.floor(Date.now() / 1000));
    const sign = (secret: string) => `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
    const headers = (secret: string) => ({ 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': sign(secret) });

    const forged = await handler(httpEvent('POST', '/slack/interactions', body, headers('guessed')));
    expect(forged.statusCode).toBe(401);
    const ok = await handler(httpEvent('POST', '/slack/interactions', body, headers(SIGNING_SECRET)));
    expect(ok.statusCode).toBe(200);
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input.taskToken)).toContain('TOKEN-2');
    expect(posts.find((p) => p.url === 'https://hooks.slack.test/r/1')?.body).toMatchObject({ replace_original: true });
    const audit = await new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit })).query({ action: 'approval.approve' });
    expect(audit.map((r) => r.actor)).toEqual(expect.arrayContaining(['alice@acme.example', 'U1']));
  });

  it('serves only its own routes: the operator pages are the console function\'s', async () => {
    expect((await approvals()(httpEvent('GET', '/approvals'))).statusCode).toBe(404);
    const consoleFn = createConsoleHandler(env, dir);
    const recent = await consoleFn(httpEvent('GET', '/promotions'));
    expect(recent.statusCode).toBe(200);
    expect(recent.body).toContain('team/app:v1.2.3');
    expect((await consoleFn(httpEvent('GET', '/approvals'))).body).toContain('Nothing is waiting for approval');
    expect((await consoleFn(httpEvent('GET', new URL(emailedLink).pathname))).statusCode).toBe(404);
  });

  it('gives each promotion function the requester it was bound for: the engine, a closer only, or none', async () => {
    const vars = { [APPROVALS_ENV.table]: db.tableNames.approvals, REGMAN_DYNAMODB_ENDPOINT: db.endpoint, AWS_REGION: 'eu-west-1' };
    expect(await approvalRequesterFromEnvironment(readEnvironment({ AUDIT_TABLE: 'audit' }), dir)).toBeUndefined();
    expect(await approvalRequesterFromEnvironment(env, dir, clients())).toBeInstanceOf(ApprovalService);

    const deps = await approvalsDepsFromEnvironment(env, dir, clients());
    await deps.service.request(sampleRequest({ executionId: 'promo-aws-3', taskToken: 'TOKEN-3' }));
    const closer = (await approvalRequesterFromEnvironment(readEnvironment(vars), dir))!;
    await expect(closer.request(sampleRequest())).rejects.toThrow(/may only close approval requests.*bindRequester/);
    expect(await closer.close!('promo-aws-3', 'EXPIRED', 'the promotion ended TIMED_OUT')).toBe(true);
    expect((await deps.service.getSnapshot('promo-aws-3'))?.request).toMatchObject({ state: 'EXPIRED', endReason: 'the promotion ended TIMED_OUT' });
    expect(await closer.close!('promo-aws-3', 'EXPIRED')).toBe(false);
  });

  it('records an undelivered e-mail and logs it without any secret; the request still waits for the others', async () => {
    const rejecting = { send: (async () => Promise.reject(Object.assign(new Error(`Email address is not verified (${BOT_TOKEN})`), { name: 'MessageRejected' }))) as SESClient['send'] };
    const deps = await approvalsDepsFromEnvironment(env, dir, { ...clients(), ses: rejecting });
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (stderr.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      await deps.service.request(sampleRequest({ executionId: 'promo-aws-4', taskToken: 'TOKEN-4' }));
    } finally {
      process.stderr.write = write;
    }
    const lines = stderr.join('');
    const snapshot = (await deps.service.getSnapshot('promo-aws-4'))!;
    expect(snapshot.deliveries.find((d) => d.channel === 'email')).toMatchObject({ ok: false, attempts: 3 });
    expect(snapshot.deliveries.find((d) => d.channel === 'slack')).toMatchObject({ ok: true });
    expect(lines).toMatch(/email delivery to alice@acme.example failed after 3 attempts: Email address is not verified \(\*\*\*\)/);
    expect(lines).not.toContain(BOT_TOKEN);
  });

  it('a secret that cannot be read gives an error page, the log names the secret but no value, and the next request retries', async () => {
    const lines: string[] = [];
    const denied = Object.assign(new Error(`not authorized; value ${SIGNING_SECRET}`), { name: 'AccessDeniedException' });
    let reads = 0;
    const real = new SecretsManagerClient({ region: 'eu-west-1' });
    const flaky = { send: ((command: GetSecretValueCommand) => (reads++ === 0 ? Promise.reject(denied) : real.send(command))) as SecretsManagerClient['send'] };
    const deps = await approvalsDepsFromEnvironment(env, dir, { ...clients(), secretsManager: flaky });
    const handler = createConsoleHttpHandler(APPROVAL_ROUTES, () => ({ approvals: deps.service }), { log: (l) => lines.push(l) });
    const path = new URL(emailedLink).pathname;
    expect((await handler(httpEvent('GET', path))).statusCode).toBe(500);
    expect(lines.join('\n')).toMatch(/Secrets Manager secret .*ApprovalsHmacKey.*AccessDeniedException.*needs secretsmanager:GetSecretValue/);
    expect(lines.join('\n')).not.toContain(SIGNING_SECRET);
    // The key is read again: the used link now gets its own refusal page.
    expect((await handler(httpEvent('GET', path))).statusCode).toBe(409);
    expect(reads).toBe(2);
  });
});
