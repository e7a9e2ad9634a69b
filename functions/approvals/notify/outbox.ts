// The local channel: every message appended to <state-dir>/outbox.jsonl, one JSON object per line, plus a console line with the link.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ApprovalMessage, MessageSender } from './types.ts';

/** One line of outbox.jsonl. */
export interface OutboxEntry {
  readonly channel: 'email' | 'slack';
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly link: string;
  readonly executionId: string;
  readonly time: string;
}

export class OutboxSender implements MessageSender {
  constructor(
    private readonly file: string,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    private readonly now: () => Date = () => new Date(),
  ) {}

  async send(message: ApprovalMessage): Promise<void> {
    const entry: OutboxEntry = {
      channel: message.channel,
      to: message.to,
      subject: message.subject,
      text: message.text,
      link: message.link,
      executionId: message.executionId,
      time: this.now().toISOString(),
    };
    await mkdir(dirname(this.file), { recursive: true });
    // One write per line: appends under O_APPEND do not interleave.
    await appendFile(this.file, `${JSON.stringify(entry)}\n`);
    this.log(`approval ${message.channel} to ${message.to}: ${message.link}`);
  }
}
