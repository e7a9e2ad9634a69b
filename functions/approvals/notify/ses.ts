// E-mail through SES: one message per approver, text and HTML parts, from the configured identity.
import { SendEmailCommand, type SESClient } from '@aws-sdk/client-ses';
import type { ApprovalMessage, MessageSender } from './types.ts';

export class SesSender implements MessageSender {
  constructor(
    private readonly client: Pick<SESClient, 'send'>,
    /** The verified SES identity the IAM policy scopes `ses:SendEmail` to. */
    private readonly from: string,
  ) {}

  async send(message: ApprovalMessage): Promise<void> {
    await this.client.send(
      new SendEmailCommand({
        Source: this.from,
        Destination: { ToAddresses: [message.to] },
        Message: {
          Subject: { Data: message.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: message.text, Charset: 'UTF-8' }, Html: { Data: message.html, Charset: 'UTF-8' } },
        },
      }),
    );
  }
}
