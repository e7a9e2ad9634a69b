// The DynamoDB delivery log of CI webhooks: a delivery id is claimed once (conditional put), so a redelivery starts nothing twice.
import { DeleteCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isAwsError } from '../dynamo/client.ts';
import type { DeliveryLog } from './verify.ts';

/** GitHub redelivers (by hand) for up to 3 days; keep ids long enough that a late redelivery is still recognised. */
export const DELIVERY_RETENTION_DAYS = 30;

export interface DynamoDeliveryLogOptions {
  readonly docClient: Pick<DynamoDBDocumentClient, 'send'>;
  /** The table of WEBHOOK_DELIVERIES_TABLE (functions/dynamo/tables.ts). */
  readonly tableName: string;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/**
 * One item per delivery: `pk = <provider>#<id>`, `status` received → started, or deleted again by
 * `release` when nothing could be started. dynalite has no TTL: `expiresAt` only matters on AWS.
 *
 * @example
 * const log = new DynamoDeliveryLog({ docClient, tableName: process.env.WEBHOOK_DELIVERIES_TABLE! });
 * if (await log.claim('github', deliveryId)) { ... start the promotion ... }
 */
export class DynamoDeliveryLog implements DeliveryLog {
  constructor(private readonly options: DynamoDeliveryLogOptions) {}

  private key(provider: string, id: string): { pk: string } {
    return { pk: `${provider}#${id}` };
  }

  async claim(provider: 'github' | 'gitlab', deliveryId: string): Promise<boolean> {
    const now = (this.options.now ?? (() => new Date()))();
    try {
      await this.options.docClient.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...this.key(provider, deliveryId), status: 'received', receivedAt: now.toISOString(), expiresAt: Math.floor(now.getTime() / 1000) + DELIVERY_RETENTION_DAYS * 86_400 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (err) {
      if (isAwsError(err, 'ConditionalCheckFailedException')) return false;
      throw err;
    }
  }

  async started(provider: 'github' | 'gitlab', deliveryId: string, executionIds: readonly string[]): Promise<void> {
    await this.options.docClient.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: this.key(provider, deliveryId),
        UpdateExpression: 'SET #status = :started, executions = :ids',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':started': 'started', ':ids': [...executionIds] },
      }),
    );
  }

  async release(provider: 'github' | 'gitlab', deliveryId: string): Promise<void> {
    await this.options.docClient.send(new DeleteCommand({ TableName: this.options.tableName, Key: this.key(provider, deliveryId) }));
  }
}
