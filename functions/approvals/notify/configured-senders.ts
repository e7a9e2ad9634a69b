// The AWS channels of each promotion edge, from its `gates.approval.channels`: SES from the configured sender, a Slack app or webhook.
import type { SESClient } from '@aws-sdk/client-ses';
import type { RegmanConfig } from '../../config/types.ts';
import { trimmedSecret, type SecretTextSource } from '../secrets.ts';
import { SesSender } from './ses.ts';
import { SlackAppSender, SlackWebhookSender, postJsonWithFetch, type PostJson } from './slack.ts';
import type { MessageSender, SenderFor } from './types.ts';

export interface ConfiguredSendersOptions {
  readonly ses: Pick<SESClient, 'send'>;
  /** Where the Slack bot token and webhook URL are read (by the names in the config). */
  readonly secrets: SecretTextSource;
  /** @default global fetch */
  readonly post?: PostJson;
  /** Slack Web API base (tests point it at a fake Slack). @default https://slack.com/api */
  readonly slackApiBase?: string;
}

type Edge = RegmanConfig['promotion'][number];
type Channels = NonNullable<NonNullable<Edge['gates']['approval']>['channels']>;

/** The edge's sender for a channel, or undefined when the edge configures none (the delivery is then recorded as failed). */
function senderOf(channels: Channels | undefined, channel: 'email' | 'slack', options: ConfiguredSendersOptions): MessageSender | undefined {
  const post = options.post ?? postJsonWithFetch;
  if (channel === 'email') return channels?.email ? new SesSender(options.ses, channels.email.from) : undefined;
  const slack = channels?.slack;
  // The app (buttons) wins over the webhook when both are configured: its clicks come back signed.
  if (slack?.botTokenSecretName && slack.channel) {
    return new SlackAppSender(
      { botToken: trimmedSecret(options.secrets, slack.botTokenSecretName), channel: slack.channel, ...(options.slackApiBase ? { apiBase: options.slackApiBase } : {}) },
      post,
    );
  }
  if (slack?.webhookUrlSecretName) return new SlackWebhookSender(trimmedSecret(options.secrets, slack.webhookUrlSecretName), post);
  return undefined;
}

/**
 * A SenderFor over the config: each message goes through its edge's channel. Senders are built once per
 * edge and channel; secrets are read when a message is sent, not before.
 *
 * @example
 * const senderFor = configuredSenders(config, { ses: new SESClient({}), secrets });
 * new ApprovalService({ ..., senderFor });
 */
export function configuredSenders(config: Pick<RegmanConfig, 'promotion'>, options: ConfiguredSendersOptions): SenderFor {
  const built = new Map<string, MessageSender | undefined>();
  return (channel, message) => {
    const edge = message?.edge && config.promotion.find((e) => e.from === message.edge!.from && e.to === message.edge!.to);
    const key = `${channel}\n${edge ? `${edge.from}\n${edge.to}` : ''}`;
    if (!built.has(key)) built.set(key, senderOf(edge ? edge.gates.approval?.channels : undefined, channel, options));
    return built.get(key);
  };
}
