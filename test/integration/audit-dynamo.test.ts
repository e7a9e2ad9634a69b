// The audit log on a real DynamoDB API (dynalite): access patterns, tamper evidence, concurrency, redaction, tables.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../functions/audit/audit-log.ts';
import { formatSeq } from '../../functions/audit/chain.ts';
import { DynamoAuditStore } from '../../functions/audit/dynamo-store.ts';
import { openDynamoAuditLog } from '../../functions/audit/index.ts';
import type { AuditRecordInput } from '../../functions/audit/types.ts';
import { createTables } from '../../functions/dynamo/create-tables.ts';
import { TABLE_SPECS } from '../../functions/dynamo/tables.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();

function rec(minute: number, over: Partial<AuditRecordInput> = {}): AuditRecordInput {
  return {
    actor: 'event:aws.ecr',
    action: 'replicate',
    outcome: 'success',
    correlationId: `evt-${minute}`,
    repository: 'team/app',
    source: 'ecr-main',
    target: 'gar-eu',
    digest: `sha256:${String(minute).padStart(64, '0')}`,
    tags: ['v1'],
    bytes: 1000 + minute,
    blobs: { uploaded: 1, mounted: 0, skipped: 2 },
    durationMs: 12,
    time: at(minute),
    ...over,
  };
}

describe('audit log on dynalite', () => {
  let db: DynaliteHandle;
  let table: string;
  const logFor = () => new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: table }));

  beforeAll(async () => {
    db = await startDynalite({ prefix: 'it-' });
    table = db.tableNames.audit;
  });
  afterAll(async () => {
    await db?.stop();
  });

  describe('queries by each access pattern', () => {
    let log: AuditLog;
    beforeAll(async () => {
      // Prepare: a mixed history across two repositories, two actors and three actions, appended out of time order.
      log = logFor();
      const records: AuditRecordInput[] = [
        rec(5, { repository: 'q/app', actor: 'alice', action: 'copy' }),
        rec(1, { repository: 'q/app', actor: 'event:aws.ecr' }),
        rec(2, { repository: 'q/app', actor: 'event:aws.ecr', target: 'acr-us' }),
        rec(3, { repository: 'q/web', actor: 'event:aws.ecr' }),
        rec(4, { repository: 'q/web', actor: 'alice', action: 'retention.delete' }),
        rec(6, { repository: 'q/app', actor: 'bob', action: 'retention.delete', outcome: 'failure', errorCode: 'DENIED' }),
        rec(7, { repository: undefined, actor: 'event:aws.ecr', action: 'event.rejected', outcome: 'rejected', digest: undefined }),
      ];
      for (const r of records) await log.append(r);
    });

    it('by repository and time, newest first, paginated across every page', async () => {
      // Act
      const all = await log.query({ repository: 'q/app' });
      const bounded = await log.query({ repository: 'q/app', since: at(2), until: at(6) });

      // Assess
      expect(all.map((r) => r.correlationId)).toEqual(['evt-6', 'evt-5', 'evt-2', 'evt-1']);
      // since inclusive, until exclusive
      expect(bounded.map((r) => r.correlationId)).toEqual(['evt-5', 'evt-2']);
    });

    it('by actor, and by actor and time, oldest first', async () => {
      expect((await log.query({ actor: 'alice', order: 'oldest-first' })).map((r) => r.correlationId)).toEqual(['evt-4', 'evt-5']);
      expect((await log.query({ actor: 'alice', until: at(5) })).map((r) => r.correlationId)).toEqual(['evt-4']);
      expect((await log.query({ actor: 'event:aws.ecr', since: at(3) })).map((r) => r.correlationId)).toEqual(['evt-7', 'evt-3']);
    });

    it('by action and time', async () => {
      expect((await log.query({ action: 'retention.delete' })).map((r) => r.correlationId)).toEqual(['evt-6', 'evt-4']);
      expect((await log.query({ action: 'retention.delete', since: at(5) })).map((r) => r.correlationId)).toEqual(['evt-6']);
      expect((await log.query({ action: 'event.rejected' }))[0]).toMatchObject({ partition: 'global', outcome: 'rejected' });
    });

    it('combines filters: the index plus residual filters', async () => {
      expect((await log.query({ repository: 'q/app', action: 'retention.delete' })).map((r) => r.actor)).toEqual(['bob']);
      expect((await log.query({ actor: 'alice', action: 'copy' })).map((r) => r.correlationId)).toEqual(['evt-5']);
      expect(await log.query({ repository: 'q/web', actor: 'bob' })).toEqual([]);
    });

    it('by time alone (scan), with limit', async () => {
      const page = await log.query({ since: at(3), until: at(7), limit: 3 });
      expect(page.map((r) => r.correlationId)).toEqual(['evt-6', 'evt-5', 'evt-4']);
    });

    it('returns the stored record intact, with every field', async () => {
      const [record] = await log.query({ repository: 'q/app', since: at(6) });
      expect(record).toMatchObject({
        actor: 'bob',
        action: 'retention.delete',
        outcome: 'failure',
        errorCode: 'DENIED',
        source: 'ecr-main',
        target: 'gar-eu',
        tags: ['v1'],
        bytes: 1006,
        blobs: { uploaded: 1, mounted: 0, skipped: 2 },
        durationMs: 12,
        time: at(6),
        partition: 'repo#q/app',
        seq: 4,
      });
      expect(record?.hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('reads every page of GSI queries, scans, partition reads and partition lists', async () => {
      // Prepare: 2 items per request, so every read below needs several pages.
      const paged = new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: table, pageSize: 2 }));
      const send = vi.spyOn(db.docClient, 'send');

      try {
        // Act
        const byRepository = await paged.query({ repository: 'q/app', order: 'oldest-first' });
        const byActionFiltered = await paged.query({ action: 'replicate', actor: 'event:aws.ecr' });
        const byTime = await paged.query({ since: at(1), until: at(8) });
        const verify = await paged.verify();
        const heads = await paged.head();

        // Assess
        // Time order, not append order: evt-5 was appended first (seq 1).
        expect(byRepository.map((r) => [r.correlationId, r.seq])).toEqual([
          ['evt-1', 2],
          ['evt-2', 3],
          ['evt-5', 1],
          ['evt-6', 4],
        ]);
        expect(byActionFiltered.map((r) => r.correlationId)).toEqual(['evt-3', 'evt-2', 'evt-1']);
        expect(byTime.map((r) => r.correlationId)).toEqual(['evt-7', 'evt-6', 'evt-5', 'evt-4', 'evt-3', 'evt-2', 'evt-1']);
        expect(verify).toMatchObject({ ok: true, checked: 7, partitions: ['global', 'repo#q/app', 'repo#q/web'] });
        expect(heads.map((h) => [h.partition, h.seq])).toEqual([
          ['global', 1],
          ['repo#q/app', 4],
          ['repo#q/web', 2],
        ]);
        expect(send.mock.calls.length).toBeGreaterThan(15);
      } finally {
        send.mockRestore();
      }
    });
  });

  describe('tamper evidence', () => {
    it('verifies a clean log', async () => {
      // Prepare
      const log = logFor();
      for (let i = 1; i <= 5; i += 1) await log.append(rec(i, { repository: 'v/clean' }));

      // Act
      const result = await log.verify({ partition: 'repo#v/clean' });

      // Assess
      expect(result).toEqual({ ok: true, checked: 5, partitions: ['repo#v/clean'], broken: [], emptyPartitions: [] });
    });

    it.each([
      ['bytes', 1],
      ['actor', 'mallory'],
    ])('detects %s changed by UpdateItem at that seq', async (field, value) => {
      // Prepare
      const log = logFor();
      const repository = `v/edit-${field}`;
      for (let i = 1; i <= 5; i += 1) await log.append(rec(i, { repository }));
      await db.docClient.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: `repo#${repository}`, sk: formatSeq(3) },
          UpdateExpression: 'SET #f = :v',
          ExpressionAttributeNames: { '#f': field },
          ExpressionAttributeValues: { ':v': value },
        }),
      );

      // Act
      const result = await log.verify();

      // Assess
      expect(result.ok).toBe(false);
      expect(result.broken).toContainEqual(expect.objectContaining({ partition: `repo#${repository}`, seq: 3, reason: 'hash-mismatch' }));
    });

    it('detects an item deleted in the middle as a gap', async () => {
      // Prepare
      const log = logFor();
      for (let i = 1; i <= 5; i += 1) await log.append(rec(i, { repository: 'v/gap' }));
      await db.docClient.send(new DeleteCommand({ TableName: table, Key: { pk: 'repo#v/gap', sk: formatSeq(2) } }));

      // Act
      const result = await log.verify({ partition: 'repo#v/gap' });

      // Assess
      expect(result).toMatchObject({ ok: false, checked: 1, firstBroken: { partition: 'repo#v/gap', seq: 2, reason: 'gap' } });
    });

    it('detects truncation of the newest records against an anchored head', async () => {
      // Prepare
      const log = logFor();
      for (let i = 1; i <= 4; i += 1) await log.append(rec(i, { repository: 'v/trunc' }));
      const anchors = await log.head({ partition: 'repo#v/trunc' });
      await db.docClient.send(new DeleteCommand({ TableName: table, Key: { pk: 'repo#v/trunc', sk: formatSeq(4) } }));

      // Act
      const result = await log.verify({ partition: 'repo#v/trunc', anchors });

      // Assess
      expect(anchors).toEqual([expect.objectContaining({ partition: 'repo#v/trunc', seq: 4 })]);
      expect(result.firstBroken).toMatchObject({ seq: 4, reason: 'truncated' });
    });

    it('detects deleting the newest records from the head item alone, and finds records by correlation id', async () => {
      // Prepare
      const log = logFor();
      for (let i = 1; i <= 3; i += 1) await log.append(rec(i, { repository: 'v/head', correlationId: `run-head-${i}` }));
      await db.docClient.send(new DeleteCommand({ TableName: table, Key: { pk: 'repo#v/head', sk: formatSeq(3) } }));

      // Act
      const result = await log.verify({ partition: 'repo#v/head' });
      const found = await log.query({ correlationId: 'run-head-2' });
      const head = await db.docClient.send(new GetCommand({ TableName: table, Key: { pk: 'meta#heads', sk: 'repo#v/head' } }));

      // Assess
      expect(result.firstBroken).toMatchObject({ partition: 'repo#v/head', seq: 3, reason: 'truncated' });
      expect(head.Item).toMatchObject({ headSeq: 3 });
      expect(found.map((r) => r.seq)).toEqual([2]);
      expect((await log.query({ repository: 'v/head' })).length).toBe(2);
    });

    it('verifies a partition whose entry in the partition list was deleted (found by scan)', async () => {
      // Prepare
      const log = logFor();
      await log.append(rec(1, { repository: 'v/hidden' }));
      await db.docClient.send(new DeleteCommand({ TableName: table, Key: { pk: 'meta#partitions', sk: 'repo#v/hidden' } }));
      await db.docClient.send(
        new UpdateCommand({ TableName: table, Key: { pk: 'repo#v/hidden', sk: formatSeq(1) }, UpdateExpression: 'SET bytes = :b', ExpressionAttributeValues: { ':b': 0 } }),
      );

      // Act
      const result = await log.verify();

      // Assess
      expect(result.partitions).toContain('repo#v/hidden');
      expect(result.broken).toContainEqual(expect.objectContaining({ partition: 'repo#v/hidden', seq: 1, reason: 'hash-mismatch' }));
    });
  });

  it('20 concurrent appends to one partition produce seq 1..20 and an unbroken chain', async () => {
    // Prepare: separate AuditLog and client per appender, as separate Lambda invocations would have.
    const appenders = Array.from({ length: 20 }, () => openDynamoAuditLog({ endpoint: db.endpoint, tableName: table }));

    // Act
    const stored = await Promise.all(appenders.map(({ log }, i) => log.append(rec(i, { repository: 'c/race', correlationId: `race-${i}` }))));
    for (const a of appenders) a.close();

    // Assess
    expect(stored.map((r) => r.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(stored.map((r) => r.correlationId)).size).toBe(20);
    const verify = await logFor().verify({ partition: 'repo#c/race' });
    expect(verify).toMatchObject({ ok: true, checked: 20 });
    const bySeq = [...stored].sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < bySeq.length; i += 1) expect(bySeq[i]?.prevHash).toBe(bySeq[i - 1]?.hash);
  });

  it('stores an error message carrying a canary secret redacted, and the record still verifies', async () => {
    // Prepare
    const canary = 'CANARY-d0-not-st0re-7a1b';
    const log = logFor();

    // Act
    const stored = await log.append(
      rec(1, {
        repository: 'r/canary',
        outcome: 'failure',
        errorCode: 'UNAUTHORIZED',
        errorMessage: `PUT https://ci:${canary}@target.example/v2/r/canary/blobs/uploads/ 401; Authorization: Basic ${canary}; password=${canary}`,
        details: { hint: `token=${canary}` },
      }),
    );

    // Assess: nothing in the raw item contains the canary.
    const raw = await db.docClient.send(new GetCommand({ TableName: table, Key: { pk: 'repo#r/canary', sk: formatSeq(stored.seq) } }));
    expect(raw.Item).toBeDefined();
    expect(JSON.stringify(raw.Item)).not.toContain(canary);
    expect(raw.Item?.errorMessage).toContain('target.example/v2/r/canary/blobs/uploads/ 401');
    expect((await log.verify({ partition: 'repo#r/canary' })).ok).toBe(true);
  });

  it('createTables is idempotent: a second run creates nothing and keeps the data', async () => {
    // Prepare
    const log = logFor();
    await log.append(rec(1, { repository: 'i/keep' }));

    // Act
    const again = await createTables(db.client, TABLE_SPECS, { prefix: 'it-' });

    // Assess
    // Every table of TABLE_SPECS (more come with each capability), none created again.
    expect(again.map((t) => [t.tableName, t.created])).toEqual(Object.values(TABLE_SPECS).map((spec) => [`it-${spec.logicalName}`, false]));
    expect(again.map((t) => t.tableName)).toEqual(expect.arrayContaining(['it-audit', 'it-idempotency', 'it-replication-state', 'it-pull-stats']));
    expect(await log.query({ repository: 'i/keep' })).toHaveLength(1);
    const described = await db.client.send(new DescribeTableCommand({ TableName: 'it-audit' }));
    expect(described.Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName).sort()).toEqual(['byActionTime', 'byActorTime', 'byRepositoryTime']);
  });

  it('createTables also takes a list of specs and provisioned capacity', async () => {
    // Act
    const created = await createTables(db.client, [TABLE_SPECS.replicationState], {
      prefix: 'prov-',
      provisionedThroughput: { readCapacityUnits: 3, writeCapacityUnits: 4 },
    });

    // Assess
    expect(created).toEqual([{ key: 'replication-state', tableName: 'prov-replication-state', created: true, timeToLive: false }]);
    const described = await db.client.send(new DescribeTableCommand({ TableName: 'prov-replication-state' }));
    expect(described.Table?.ProvisionedThroughput).toMatchObject({ ReadCapacityUnits: 3, WriteCapacityUnits: 4 });
  });

  it('reports that dynalite has no TTL, and created every table on-demand', async () => {
    expect(db.created.map((t) => [t.key, t.created, t.timeToLive])).toEqual(Object.keys(TABLE_SPECS).map((key) => [key, true, false]));
    const described = await db.client.send(new DescribeTableCommand({ TableName: 'it-idempotency' }));
    expect(described.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  });
});

describe('audit log on a persisted dynalite', () => {
  it('keeps the chain across a restart and continues it', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'audit-dynalite-'));
    try {
      const first = await startDynalite({ path: dir });
      const log1 = new AuditLog(new DynamoAuditStore({ docClient: first.docClient, tableName: first.tableNames.audit }));
      await log1.append(rec(1));
      await log1.append(rec(2));
      await first.stop();

      // Act
      const second = await startDynalite({ path: dir });
      const log2 = new AuditLog(new DynamoAuditStore({ docClient: second.docClient, tableName: second.tableNames.audit }));
      const third = await log2.append(rec(3));
      const verify = await log2.verify();
      const tables = await second.client.send(new ListTablesCommand({}));
      await second.stop();

      // Assess
      expect(second.created.every((t) => !t.created)).toBe(true);
      expect(tables.TableNames).toEqual(Object.values(TABLE_SPECS).map((spec) => spec.logicalName).sort());
      expect(third.seq).toBe(3);
      expect(verify).toMatchObject({ ok: true, checked: 3 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
