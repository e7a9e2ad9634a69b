// Sends each message through its channel, retrying failures with backoff, and returns one delivery record per message.
import type { DeliveryRecord } from '../types.ts';
import type { ApprovalMessage, SenderFor } from './types.ts';

export interface DeliveryOptions {
  /** Attempts per message. @default 3 */
  readonly attempts?: number;
  /** First backoff; doubles each retry. @default 200 */
  readonly baseDelayMs?: number;
}

/** Delivers every message; never throws: failures come back as `ok: false` records (shown on the page, audited). */
export async function deliverAll(
  messages: readonly ApprovalMessage[],
  senderFor: SenderFor,
  options: DeliveryOptions & { readonly now: () => Date; readonly log: (line: string) => void },
): Promise<DeliveryRecord[]> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const base = options.baseDelayMs ?? 200;
  return Promise.all(
    messages.map(async (message): Promise<DeliveryRecord> => {
      const sender = senderFor(message.channel, message);
      const record = (ok: boolean, tries: number, error?: string): DeliveryRecord => ({
        requestId: message.requestId,
        channel: message.channel,
        to: message.to,
        ok,
        attempts: tries,
        time: options.now().toISOString(),
        ...(error !== undefined ? { error } : {}),
      });
      if (!sender) {
        options.log(`approvals: no ${message.channel} channel is configured: ${message.to} was not told`);
        return record(false, 0, `no ${message.channel} channel configured`);
      }
      let error = '';
      for (let attempt = 1; attempt <= attempts; attempt += 1) {
        try {
          await sender.send(message);
          return record(true, attempt);
        } catch (err) {
          error = err instanceof Error ? err.message : String(err);
          if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, base * 2 ** (attempt - 1)));
        }
      }
      options.log(`approvals: ${message.channel} delivery to ${message.to} failed after ${attempts} attempts: ${error}`);
      return record(false, attempts, error);
    }),
  );
}
