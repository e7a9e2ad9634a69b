// The approvals store on DynamoDB (functions/dynamo/tables.ts APPROVALS_TABLE): single-item conditional writes, no transactions.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { APPROVALS_INDEXES } from '../dynamo/tables.ts';
import { ApprovalError } from './errors.ts';
import type { ApprovalStore } from './store.ts';
import type { ApprovalDecisionRecord, ApprovalLink, ApprovalSnapshot, ApprovalState, DeliveryRecord, StoredApprovalRequest } from './types.ts';

export interface DynamoApprovalStoreOptions {
  readonly docClient: DynamoDBDocumentClient;
  readonly tableName: string;
}

const REQUEST_SK = 'request';
const LINK_SK = 'link';
const requestPk = (id: string): string => `request#${id}`;
const linkPk = (id: string): string => `link#${id}`;
/** Items live 90 days past their expiry, then DynamoDB TTL removes them. */
const ttlOf = (expiresAt: string): number => Math.floor(Date.parse(expiresAt) / 1000) + 90 * 24 * 3600;

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

function strip<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, ttl: _ttl, ...rest } = item;
  return rest as T;
}

export class DynamoApprovalStore implements ApprovalStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoApprovalStoreOptions) {
    this.doc = options.docClient;
    this.table = options.tableName;
  }

  /** Runs one write; a failed condition is `false`, any other failure an `APPROVAL_STORE` error. */
  private async conditional(what: string, run: () => Promise<unknown>): Promise<boolean> {
    try {
      await run();
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw this.storeError(what, err);
    }
  }

  private storeError(what: string, err: unknown): ApprovalError {
    const message = err instanceof Error ? err.message : String(err);
    return new ApprovalError('APPROVAL_STORE', 503, `Approvals table ${this.table}: ${what} failed: ${message}`, { cause: err, retryable: true });
  }

  private async read<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw this.storeError(what, err);
    }
  }

  putRequestIfAbsent(request: StoredApprovalRequest): Promise<boolean> {
    return this.conditional('put request', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...request, pk: requestPk(request.requestId), sk: REQUEST_SK, ttl: ttlOf(request.expiresAt) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  updateTaskToken(requestId: string, taskToken: string): Promise<boolean> {
    return this.conditional('update task token', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: requestPk(requestId), sk: REQUEST_SK },
          UpdateExpression: 'SET taskToken = :t',
          ConditionExpression: '#s = :pending',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':t': taskToken, ':pending': 'PENDING' },
        }),
      ),
    );
  }

  async putLink(link: ApprovalLink): Promise<void> {
    await this.read('put link', () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: { ...link, pk: linkPk(link.linkId), sk: LINK_SK, ttl: ttlOf(link.expiresAt) } })),
    );
  }

  async getLink(linkId: string): Promise<ApprovalLink | undefined> {
    const out = await this.read('get link', () =>
      this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: linkPk(linkId), sk: LINK_SK }, ConsistentRead: true })),
    );
    return out.Item ? strip<ApprovalLink>(out.Item) : undefined;
  }

  consumeLink(linkId: string, usedAt: string): Promise<boolean> {
    return this.conditional('consume link', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: linkPk(linkId), sk: LINK_SK },
          UpdateExpression: 'SET usedAt = :u',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(usedAt)',
          ExpressionAttributeValues: { ':u': usedAt },
        }),
      ),
    );
  }

  async getSnapshot(requestId: string): Promise<ApprovalSnapshot | undefined> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.read('read request', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': requestPk(requestId) },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const requestItem = items.find((i) => i.sk === REQUEST_SK);
    if (!requestItem) return undefined;
    return {
      request: strip<StoredApprovalRequest>(requestItem),
      decisions: items.filter((i) => String(i.sk).startsWith('decision#')).map((i) => strip<ApprovalDecisionRecord>(i)),
      deliveries: items.filter((i) => String(i.sk).startsWith('delivery#')).map((i) => strip<DeliveryRecord>(i)),
    };
  }

  putDecisionIfAbsent(decision: ApprovalDecisionRecord): Promise<boolean> {
    return this.conditional('record decision', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...decision, pk: requestPk(decision.requestId), sk: `decision#${decision.identity.toLowerCase()}` },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
  }

  endRequest(requestId: string, state: Exclude<ApprovalState, 'PENDING'>, endedAt: string, reason?: string): Promise<boolean> {
    return this.conditional('end request', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: requestPk(requestId), sk: REQUEST_SK },
          UpdateExpression: reason === undefined ? 'SET #s = :s, endedAt = :e' : 'SET #s = :s, endedAt = :e, endReason = :r',
          ConditionExpression: '#s = :pending',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':s': state, ':e': endedAt, ':pending': 'PENDING', ...(reason === undefined ? {} : { ':r': reason }) },
        }),
      ),
    );
  }

  async setCompletionError(requestId: string, message: string): Promise<void> {
    await this.read('note completion error', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: requestPk(requestId), sk: REQUEST_SK },
          UpdateExpression: 'SET completionError = :m',
          ExpressionAttributeValues: { ':m': message },
        }),
      ),
    );
  }

  async putDelivery(delivery: DeliveryRecord): Promise<void> {
    await this.read('record delivery', () =>
      this.doc.send(
        new PutCommand({ TableName: this.table, Item: { ...delivery, pk: requestPk(delivery.requestId), sk: `delivery#${delivery.channel}#${delivery.to}` } }),
      ),
    );
  }

  async listByState(state: ApprovalState, limit = 50): Promise<StoredApprovalRequest[]> {
    const out = await this.read('list requests', () =>
      this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: APPROVALS_INDEXES.byStateCreated,
          KeyConditionExpression: '#s = :s',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':s': state },
          ScanIndexForward: false,
          Limit: limit,
        }),
      ),
    );
    return (out.Items ?? []).map((i) => strip<StoredApprovalRequest>(i));
  }
}
