import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryApprovalStore } from '../../../functions/approvals/memory-store.ts';
import { SesSender } from '../../../functions/approvals/notify/ses.ts';
import { SlackAppSender, handleSlackInteraction, postJsonWithFetch } from '../../../functions/approvals/notify/slack.ts';
import type { ApprovalMessage } from '../../../functions/approvals/notify/types.ts';
import { ApprovalService } from '../../../functions/approvals/service.ts';
import { slackSignature } from '../../../functions/approvals/signing.ts';
import { RecordingCompleter, sampleRequest } from './fixtures.ts';

const MESSAGE: ApprovalMessage = {
  channel: 'email',
  to: 'alice@example.com',
  subject: 'Approval needed',
  text: 'text part',
  html: '<p>html part</p>',
  link: 'http://console/approvals/x/y',
  requestId: 'r',
  executionId: 'r',
};

/** A small fake Slack: chat.postMessage and response_url, recording what it was sent. */
const received: { path: string; auth?: string; body: Record<string, unknown> }[] = [];
let slack: ReturnType<typeof createServer>;
let slackUrl: string;
beforeAll(async () => {
  slack = createServer(async (req: IncomingMessage, res) => {
    let body = '';
    for await (const c of req) body += String(c);
    received.push({ path: req.url ?? '', ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), body: JSON.parse(body) as Record<string, unknown> });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: req.headers.authorization !== 'Bearer bad' }));
  });
  await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
  slackUrl = `http://127.0.0.1:${(slack.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => slack.close(() => r())));

describe('SES', () => {
  it('sends one message to the approver with text and HTML parts from the configured identity', async () => {
    const ses = mockClient(SESClient);
    ses.on(SendEmailCommand).resolves({ MessageId: 'm1' });
    await new SesSender(new SESClient({ region: 'us-east-1' }), 'releases@acme.example').send(MESSAGE);
    const input = ses.commandCalls(SendEmailCommand)[0]!.args[0].input;
    expect(input.Source).toBe('releases@acme.example');
    expect(input.Destination?.ToAddresses).toEqual(['alice@example.com']);
    expect(input.Message?.Body?.Text?.Data).toBe('text part');
    expect(input.Message?.Body?.Html?.Data).toBe('<p>html part</p>');
    ses.restore();
  });
});

describe('Slack app', () => {
  it('posts Approve/Reject buttons with the bot token, and fails on ok:false', async () => {
    await new SlackAppSender({ botToken: async () => 'xoxb-1', channel: 'C1', apiBase: slackUrl }).send({ ...MESSAGE, channel: 'slack', to: 'U1' });
    const sent = received.at(-1)!;
    expect(sent.path).toBe('/chat.postMessage');
    expect(sent.auth).toBe('Bearer xoxb-1');
    expect(JSON.stringify(sent.body)).toContain('"action_id":"approve"');
    await expect(new SlackAppSender({ botToken: async () => 'bad', channel: 'C1', apiBase: slackUrl }).send(MESSAGE)).rejects.toThrow(/chat.postMessage failed/);
  });

  it('takes a signed click from an approver, decides, and updates the message in place; refuses forged and stale requests', async () => {
    const completer = new RecordingCompleter();
    const service = new ApprovalService({
      store: new InMemoryApprovalStore(),
      key: async () => Buffer.alloc(32, 2),
      completer,
      audit: { append: async () => undefined },
      policyFor: () => ({ approvers: ['U1', 'U2'], required: 1 }),
      consoleUrl: 'http://console',
      senderFor: () => ({ send: async () => undefined }),
      log: () => undefined,
    });
    await service.request(sampleRequest({ executionId: 'slack-1' }));
    const secret = 'shh';
    const now = new Date();
    const ts = String(Math.floor(now.getTime() / 1000));
    const click = (user: string) =>
      `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: user }, actions: [{ action_id: 'approve', value: 'slack-1' }], response_url: `${slackUrl}/respond` }))}`;
    const deps = { approvals: service, signingSecret: async () => secret, post: postJsonWithFetch };

    const forged = await handleSlackInteraction(deps, { timestamp: ts, signature: slackSignature('guess', ts, click('U1')) }, click('U1'));
    expect(forged.status).toBe(401);
    const old = String(Number(ts) - 600);
    expect((await handleSlackInteraction(deps, { timestamp: old, signature: slackSignature(secret, old, click('U1')) }, click('U1'))).status).toBe(401);
    expect(completer.succeeded).toEqual([]);

    await handleSlackInteraction(deps, { timestamp: ts, signature: slackSignature(secret, ts, click('U9')) }, click('U9'));
    expect(received.at(-1)!.body).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('not an approver') });

    const ok = await handleSlackInteraction(deps, { timestamp: ts, signature: slackSignature(secret, ts, click('U1')) }, click('U1'));
    expect(ok.status).toBe(200);
    expect(received.at(-1)).toMatchObject({ path: '/respond', body: { replace_original: true, text: expect.stringContaining('approved slack-1') } });
    expect(completer.succeeded[0]!.output.approvers).toEqual([expect.objectContaining({ identity: 'U1', channel: 'slack' })]);
  });
});
