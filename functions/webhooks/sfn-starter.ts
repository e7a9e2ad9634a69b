// Starts a webhook's promotion on AWS: StartExecution of the promotion state machine with the same input `regman promote` sends.
import { randomUUID } from 'node:crypto';
import { StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { PromotionInput } from '../promotion/types.ts';
import type { WebhookDeps } from './receive.ts';

/** `promo-<yyyyMMddHHmmss>-<8 hex>`: the execution's name and the promotion id, as the CLI names them. */
export function promotionExecutionId(now: Date): string {
  return `promo-${now.toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
}

/**
 * @example
 * const start = sfnPromotionStarter(new SFNClient({}), process.env.REGMAN_PROMOTION_STATE_MACHINE_ARN!);
 */
export function sfnPromotionStarter(sfn: Pick<SFNClient, 'send'>, stateMachineArn: string, now: () => Date = () => new Date()): WebhookDeps['start'] {
  return async (p) => {
    const at = now();
    const executionId = promotionExecutionId(at);
    const input: PromotionInput = {
      executionId,
      correlationId: p.correlationId,
      repository: p.repository,
      tag: p.tag,
      from: p.from,
      to: p.to,
      requester: p.requester,
      reason: `CI webhook (${p.requestedBy})`,
      // Refused by a hold, as an automatic promotion must be (docs/PROMOTION_WORKFLOW.md "Holds").
      trigger: 'webhook',
      requestedAt: at.toISOString(),
    };
    await sfn.send(new StartExecutionCommand({ stateMachineArn, name: executionId, input: JSON.stringify(input) }));
    return { executionId, status: 'RUNNING' };
  };
}
