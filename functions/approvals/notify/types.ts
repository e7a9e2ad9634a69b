// What a channel sends: one message per approver per request, with the summary and that approver's link.

export interface ApprovalMessage {
  readonly channel: 'email' | 'slack';
  /** An e-mail address or a Slack user id. */
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** That approver's signed link (never the task token). */
  readonly link: string;
  readonly requestId: string;
  readonly executionId: string;
  /** The promotion edge: channels are configured per edge (promotion[].gates.approval.channels). */
  readonly edge?: { readonly from: string; readonly to: string };
}

/** Sends one message; throws on failure (the delivery loop retries and records). */
export interface MessageSender {
  send(message: ApprovalMessage): Promise<void>;
}

/** Picks the sender for a channel (and the message, whose edge may choose it); undefined when the channel is not configured. */
export type SenderFor = (channel: ApprovalMessage['channel'], message?: ApprovalMessage) => MessageSender | undefined;
