// Each edge's channels from the config: SES from its sender, the Slack app over the webhook, nothing when an edge configures no channel.
import { SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { configuredSenders } from '../../../functions/approvals/notify/configured-senders.ts';
import type { PostJson } from '../../../functions/approvals/notify/slack.ts';
import type { ApprovalMessage } from '../../../functions/approvals/notify/types.ts';
import type { RegmanConfig } from '../../../functions/config/types.ts';

const ses = mockClient(SESClient);
afterEach(() => ses.reset());

type Edge = RegmanConfig['promotion'][number];
const edge = (from: string, to: string, channels?: NonNullable<Edge['gates']['approval']>['channels']): Edge =>
  ({ from, to, gates: { approval: { approvers: ['a@x.example'], required: 1, expiresInHours: 24, ...(channels ? { channels } : {}) } } }) as unknown as Edge;

const config = {
  promotion: [
    edge('dev', 'staging', { email: { from: 'staging-releases@acme.example' }, slack: { webhookUrlSecretName: 'hook', botTokenSecretName: 'bot', channel: 'C1' } }),
    edge('staging', 'prod', { email: { from: 'prod-releases@acme.example' }, slack: { webhookUrlSecretName: 'hook' } }),
    edge('prod', 'dr'),
  ],
};

const message = (channel: 'email' | 'slack', from: string, to: string): ApprovalMessage => ({
  channel,
  to: channel === 'email' ? 'a@x.example' : 'U1',
  subject: 's',
  text: 't',
  html: '<p>t</p>',
  link: 'https://console.example/approvals/e/t',
  requestId: 'e',
  executionId: 'e',
  edge: { from, to },
});

describe('configuredSenders', () => {
  const posts: { url: string; headers?: Record<string, string> }[] = [];
  const post: PostJson = async (url, _body, headers) => {
    posts.push({ url, ...(headers ? { headers } : {}) });
    return { status: 200, text: '{"ok":true}' };
  };
  const secrets = { secretText: async (id: string) => (id === 'bot' ? 'xoxb-1\n' : `https://hooks.slack.test/${id}`) };
  const senderFor = configuredSenders(config, { ses: new SESClient({ region: 'eu-west-1' }), secrets, post, slackApiBase: 'https://slack.test/api' });

  it('sends e-mail from the sender of the message\'s edge', async () => {
    for (const [from, to] of [['dev', 'staging'], ['staging', 'prod']] as const) await senderFor('email', message('email', from, to))!.send(message('email', from, to));
    expect(ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input.Source)).toEqual(['staging-releases@acme.example', 'prod-releases@acme.example']);
  });

  it('uses the Slack app (buttons) when the edge configures it, the webhook otherwise', async () => {
    await senderFor('slack', message('slack', 'dev', 'staging'))!.send(message('slack', 'dev', 'staging'));
    await senderFor('slack', message('slack', 'staging', 'prod'))!.send(message('slack', 'staging', 'prod'));
    expect(posts).toEqual([{ url: 'https://slack.test/api/chat.postMessage', headers: { authorization: 'Bearer xoxb-1' } }, { url: 'https://hooks.slack.test/hook' }]);
  });

  it('has no sender for an edge without channels, or a message without an edge (the delivery is recorded as failed)', () => {
    expect(senderFor('email', message('email', 'prod', 'dr'))).toBeUndefined();
    expect(senderFor('slack', message('slack', 'prod', 'dr'))).toBeUndefined();
    expect(senderFor('email')).toBeUndefined();
  });

  it('builds one sender per edge and channel', () => {
    expect(senderFor('email', message('email', 'dev', 'staging'))).toBe(senderFor('email', message('email', 'dev', 'staging')));
  });
});
