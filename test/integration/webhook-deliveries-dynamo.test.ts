// The webhook delivery log on dynalite: a delivery id is claimed once, recorded with its executions, and can be released after a failed start.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TABLE_SPECS } from '../../functions/dynamo/tables.ts';
import { DELIVERY_RETENTION_DAYS, DynamoDeliveryLog } from '../../functions/webhooks/delivery-log.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

describe('DynamoDeliveryLog (dynalite)', () => {
  let db: DynaliteHandle;
  let log: DynamoDeliveryLog;
  const now = new Date('2026-02-01T00:00:00Z');
  beforeAll(async () => {
    db = await startDynalite({ tables: { webhookDeliveries: TABLE_SPECS.webhookDeliveries } });
    log = new DynamoDeliveryLog({ docClient: db.docClient, tableName: db.tableNames.webhookDeliveries, now: () => now });
  });
  afterAll(() => db?.stop());

  const item = async (pk: string) => (await db.docClient.send(new GetCommand({ TableName: db.tableNames.webhookDeliveries, Key: { pk } }))).Item;

  it('claims an id once per provider, even when two requests race', async () => {
    const raced = await Promise.all([log.claim('github', 'd-1'), log.claim('github', 'd-1'), log.claim('github', 'd-1')]);
    expect(raced.filter(Boolean)).toHaveLength(1);
    expect(await log.claim('gitlab', 'd-1')).toBe(true);
    expect(await item('github#d-1')).toMatchObject({ status: 'received', receivedAt: now.toISOString(), expiresAt: now.getTime() / 1000 + DELIVERY_RETENTION_DAYS * 86_400 });
  });

  it('records the executions started, and a released id can be claimed again', async () => {
    expect(await log.claim('github', 'd-2')).toBe(true);
    await log.started('github', 'd-2', ['promo-1', 'promo-2']);
    expect(await item('github#d-2')).toMatchObject({ status: 'started', executions: ['promo-1', 'promo-2'] });
    expect(await log.claim('github', 'd-2')).toBe(false);
    await log.release('github', 'd-2');
    expect(await item('github#d-2')).toBeUndefined();
    expect(await log.claim('github', 'd-2')).toBe(true);
  });
});
