// Table specs → CreateTable input: one source of truth for CDK and the local stack.
import { describe, expect, it } from 'vitest';
import {
  AUDIT_TABLE,
  IDEMPOTENCY_TABLE,
  REPLICATION_STATE_TABLE,
  TABLE_SPECS,
  localTableName,
  localTableNames,
  toCreateTableInput,
  type TableSpec,
} from '../../../functions/dynamo/tables.ts';

describe('toCreateTableInput', () => {
  it('maps the audit table with its three GSIs exactly (on-demand)', () => {
    // Act
    const input = toCreateTableInput(AUDIT_TABLE, 'regman-audit');

    // Assess
    expect(input).toEqual({
      TableName: 'regman-audit',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'repository', AttributeType: 'S' },
        { AttributeName: 'timeKey', AttributeType: 'S' },
        { AttributeName: 'actor', AttributeType: 'S' },
        { AttributeName: 'action', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byRepositoryTime',
          KeySchema: [
            { AttributeName: 'repository', KeyType: 'HASH' },
            { AttributeName: 'timeKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'byActorTime',
          KeySchema: [
            { AttributeName: 'actor', KeyType: 'HASH' },
            { AttributeName: 'timeKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
        {
          IndexName: 'byActionTime',
          KeySchema: [
            { AttributeName: 'action', KeyType: 'HASH' },
            { AttributeName: 'timeKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('maps the idempotency table in the Powertools layout, without GSIs', () => {
    expect(toCreateTableInput(IDEMPOTENCY_TABLE, 'idem')).toEqual({
      TableName: 'idem',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    });
    expect(IDEMPOTENCY_TABLE.timeToLiveAttribute).toBe('expiration');
    expect(Object.keys(IDEMPOTENCY_TABLE.attributes ?? {})).toEqual(expect.arrayContaining(['status', 'data', 'in_progress_expiration']));
  });

  it('maps the replication-state table with pk/sk strings', () => {
    const input = toCreateTableInput(REPLICATION_STATE_TABLE, 'state');
    expect(input.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(input.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
  });

  it('puts the table and every index on provisioned capacity when asked', () => {
    // Act
    const input = toCreateTableInput(AUDIT_TABLE, 'a-audit', { provisionedThroughput: { readCapacityUnits: 5, writeCapacityUnits: 7 } });

    // Assess
    const throughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 7 };
    expect(input.BillingMode).toBe('PROVISIONED');
    expect(input.ProvisionedThroughput).toEqual(throughput);
    expect(input.GlobalSecondaryIndexes?.map((i) => i.ProvisionedThroughput)).toEqual([throughput, throughput, throughput]);
  });

  it('maps KEYS_ONLY and INCLUDE projections', () => {
    // Prepare
    const spec: TableSpec = {
      logicalName: 'proj',
      description: 'test',
      partitionKey: { name: 'id', type: 'N' },
      globalSecondaryIndexes: [
        { name: 'k', partitionKey: { name: 'a', type: 'S' }, projection: { type: 'KEYS_ONLY' } },
        { name: 'i', partitionKey: { name: 'b', type: 'B' }, sortKey: { name: 'id', type: 'N' }, projection: { type: 'INCLUDE', nonKeyAttributes: ['x', 'y'] } },
      ],
      pointInTimeRecovery: false,
      retain: false,
    };

    // Act
    const input = toCreateTableInput(spec, 'proj');

    // Assess
    expect(input.AttributeDefinitions).toEqual([
      { AttributeName: 'id', AttributeType: 'N' },
      { AttributeName: 'a', AttributeType: 'S' },
      { AttributeName: 'b', AttributeType: 'B' },
    ]);
    expect(input.GlobalSecondaryIndexes?.map((i) => i.Projection)).toEqual([
      { ProjectionType: 'KEYS_ONLY' },
      { ProjectionType: 'INCLUDE', NonKeyAttributes: ['x', 'y'] },
    ]);
  });

  it('rejects a spec that gives one key attribute two types, naming both', () => {
    const spec: TableSpec = {
      logicalName: 'clash',
      description: 'test',
      partitionKey: { name: 'id', type: 'S' },
      globalSecondaryIndexes: [{ name: 'g', partitionKey: { name: 'id', type: 'N' }, projection: { type: 'ALL' } }],
      pointInTimeRecovery: false,
      retain: false,
    };
    expect(() => toCreateTableInput(spec, 'clash')).toThrow(/"clash": key attribute "id" is both S and N/);
  });
});

describe('localTableNames', () => {
  it('prefixes every logical name', () => {
    expect(localTableNames('regman-')).toMatchObject({ audit: 'regman-audit', idempotency: 'regman-idempotency', replicationState: 'regman-replication-state', pullStats: 'regman-pull-stats', approvals: 'regman-approvals' });
    expect(localTableNames('regman-')).toEqual(Object.fromEntries(Object.entries(TABLE_SPECS).map(([key, spec]) => [key, `regman-${spec.logicalName}`])));
  });

  it('rejects names DynamoDB would refuse', () => {
    expect(() => localTableName(AUDIT_TABLE, 'bad prefix/')).toThrow(/Invalid DynamoDB table name "bad prefix\/audit"/);
  });

  it('keeps the audit table retained with point-in-time recovery, for the CDK construct', () => {
    expect(AUDIT_TABLE.retain).toBe(true);
    expect(AUDIT_TABLE.pointInTimeRecovery).toBe(true);
    expect(AUDIT_TABLE.timeToLiveAttribute).toBeUndefined();
  });
});
