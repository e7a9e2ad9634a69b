// Slack: an incoming webhook (a message with the link), or a Slack app posting Approve/Reject buttons; clicks come back signed.
import { checkSlackSignature } from '../checks.ts';
import { ApprovalRefusedError, BadInputError } from '../errors.ts';
import type { ApprovalService } from '../service.ts';
import type { ApprovalMessage, MessageSender } from './types.ts';

/** POSTs JSON; resolves with the status and body text (global fetch in production, a fake Slack in tests). */
export type PostJson = (url: string, body: unknown, headers?: Record<string, string>) => Promise<{ status: number; text: string }>;

export const postJsonWithFetch: PostJson = async (url, body, headers = {}) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
};

/** The incoming-webhook message: the summary and the approver's own link (Slack user ids are mentioned). */
export class SlackWebhookSender implements MessageSender {
  constructor(
    private readonly webhookUrl: () => Promise<string>,
    private readonly post: PostJson = postJsonWithFetch,
  ) {}

  async send(message: ApprovalMessage): Promise<void> {
    const res = await this.post(await this.webhookUrl(), { text: `<@${message.to}> ${message.subject}\n${message.text}` });
    if (res.status !== 200) throw new Error(`Slack webhook answered ${res.status}: ${res.text.slice(0, 200)}`);
  }
}

export const SLACK_REASON_BLOCK = 'regman_reason';

/** Block Kit for the app's message: summary, a reason box, Approve / Reject buttons (value: the request id) and the page link. */
export function slackBlocks(message: ApprovalMessage): unknown[] {
  return [
    { type: 'section', text: { type: 'mrkdwn', text: `<@${message.to}> ${message.subject}\n${message.text.split('\n\n')[0]}` } },
    { type: 'input', block_id: SLACK_REASON_BLOCK, optional: true, label: { type: 'plain_text', text: 'Comment (a rejection needs a reason)' }, element: { type: 'plain_text_input', action_id: 'reason' } },
    {
      type: 'actions',
      elements: [
        { type: 'button', action_id: 'approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: message.requestId },
        { type: 'button', action_id: 'reject', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: message.requestId },
        { type: 'button', action_id: 'open', text: { type: 'plain_text', text: 'Open the page' }, url: message.link },
      ],
    },
  ];
}

/** The Slack app: `chat.postMessage` with the bot token, to the configured channel. */
export class SlackAppSender implements MessageSender {
  constructor(
    private readonly options: { readonly botToken: () => Promise<string>; readonly channel: string; readonly apiBase?: string },
    private readonly post: PostJson = postJsonWithFetch,
  ) {}

  async send(message: ApprovalMessage): Promise<void> {
    const base = this.options.apiBase ?? 'https://slack.com/api';
    const res = await this.post(
      `${base}/chat.postMessage`,
      { channel: this.options.channel, text: message.subject, blocks: slackBlocks(message) },
      { authorization: `Bearer ${await this.options.botToken()}` },
    );
    const ok = res.status === 200 && (JSON.parse(res.text || '{}') as { ok?: boolean }).ok === true;
    if (!ok) throw new Error(`Slack chat.postMessage failed (${res.status}): ${res.text.slice(0, 200)}`);
  }
}

interface BlockActionsPayload {
  readonly type?: string;
  readonly user?: { readonly id?: string };
  readonly actions?: readonly { readonly action_id?: string; readonly value?: string }[];
  readonly response_url?: string;
  readonly state?: { readonly values?: Record<string, Record<string, { readonly value?: string | null }>> };
}

export interface SlackInteractionDeps {
  readonly approvals: ApprovalService;
  readonly signingSecret: () => Promise<string>;
  readonly post?: PostJson;
  readonly now?: () => Date;
}

/**
 * `POST /slack/interactions`: verifies Slack's signature over the raw body, takes the approver from the signed
 * payload's `user.id`, decides through the same checks as the page and the CLI, and replaces the message with the
 * outcome through `response_url`. Answers 200 with an ephemeral text for refusals Slack should show the clicker.
 */
export async function handleSlackInteraction(
  deps: SlackInteractionDeps,
  headers: { timestamp?: string; signature?: string },
  rawBody: string,
): Promise<{ status: number; body: string }> {
  const now = deps.now?.() ?? new Date();
  try {
    checkSlackSignature(await deps.signingSecret(), headers, rawBody, now);
  } catch (err) {
    if (err instanceof ApprovalRefusedError) return { status: err.status, body: err.message };
    throw err;
  }
  let payload: BlockActionsPayload;
  try {
    payload = JSON.parse(new URLSearchParams(rawBody).get('payload') ?? '') as BlockActionsPayload;
  } catch {
    return { status: 400, body: 'The payload is not JSON.' };
  }
  const action = payload.actions?.[0];
  if (payload.type !== 'block_actions' || !action || (action.action_id !== 'approve' && action.action_id !== 'reject')) return { status: 200, body: '' };
  const user = payload.user?.id ?? '';
  const reason = payload.state?.values?.[SLACK_REASON_BLOCK]?.reason?.value ?? undefined;
  const post = deps.post ?? postJsonWithFetch;
  try {
    if (!action.value) throw new BadInputError('The button names no request.');
    const result = await deps.approvals.decideAsIdentity(action.value, user, 'slack', { action: action.action_id, ...(reason ? { comment: reason } : {}) });
    const verb = action.action_id === 'approve' ? 'approved' : 'rejected';
    const tail = result.state === 'APPROVED' ? ' The promotion goes on.' : result.state === 'REJECTED' ? ' The promotion is stopped.' : '';
    if (payload.response_url) await post(payload.response_url, { replace_original: true, text: `<@${user}> ${verb} ${result.requestId}.${tail}` });
    return { status: 200, body: '' };
  } catch (err) {
    if (!(err instanceof ApprovalRefusedError)) throw err;
    if (payload.response_url) await post(payload.response_url, { response_type: 'ephemeral', replace_original: false, text: err.message });
    return { status: 200, body: '' };
  }
}
