// verify over the lean Scan reader (openDynamoAuditLog: raw-client.ts pages, entryFromWire) gives what the SDK reader gives, on dynalite, intact and tampered.
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../functions/audit/audit-log.ts';
import { entryFromWire, formatSeq, fromItem, type ChainEntry } from '../../../functions/audit/chain.ts';
import { DynamoAuditStore } from '../../../functions/audit/dynamo-store.ts';
import { openDynamoAuditLog } from '../../../functions/audit/index.ts';
import { RawDynamoClient } from '../../../functions/dynamo/raw-client.ts';
import { AUDIT_TABLE } from '../../../functions/dynamo/tables.ts';
import type { StoredAuditRecord } from '../../../functions/audit/types.ts';
import { startDynalite, type DynaliteHandle } from '../../helpers/dynalite.ts';

let db: DynaliteHandle;
let raw: RawDynamoClient;
const sdkLog = () => new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit, pageSize: 4 }));
const leanLog = () => new AuditLog(new DynamoAuditStore({ docClient: db.docClient, tableName: db.tableNames.audit, pageSize: 4, raw }));

beforeAll(async () => {
  db = await startDynalite({ tables: { audit: AUDIT_TABLE } });
  raw = new RawDynamoClient({ endpoint: db.endpoint, region: 'us-east-1' });
  const log = sdkLog();
  for (let i = 1; i <= 6; i += 1) {
    for (const repository of ['t/app', 't/db', 't/web', undefined]) {
      await log.append({
        actor: 'cli:ana',
        action: i === 3 ? 'promote.validate' : 'copy',
        outcome: 'success',
        correlationId: `c-${i}`,
        time: new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString(),
        ...(repository ? { repository, digest: `sha256:${String(i).padStart(64, '0')}`, tags: ['v1', `b${i}`], bytes: 2 ** 40 + i, blobs: { uploaded: i, mounted: 0, skipped: 1 } } : {}),
        details: { to: 'prod', executionId: `exec-${i}`, summary: { critical: 0, ok: true, note: null, list: [1, 'a', { x: -1.5 }] } },
      });
    }
  }
}, 60_000);

afterAll(async () => {
  raw?.destroy();
  await db?.stop();
});

async function scanned(log: AuditLog): Promise<{ result: Awaited<ReturnType<AuditLog['verify']>>; visited: StoredAuditRecord[] }> {
  const visited: StoredAuditRecord[] = [];
  const result = await log.verify({ visit: (r) => visited.push(r), segments: 3 });
  visited.sort((a, b) => (`${a.partition}/${a.seq}` < `${b.partition}/${b.seq}` ? -1 : 1));
  return { result, visited };
}

describe('verify through the lean Scan reader', () => {
  it('reads the same records and the same result as the SDK reader on an intact log', async () => {
    const lean = await scanned(leanLog());
    const sdk = await scanned(sdkLog());
    expect(lean.result).toEqual({ ok: true, checked: 24, partitions: ['global', 'repo#t/app', 'repo#t/db', 'repo#t/web'], broken: [], emptyPartitions: [] });
    expect(lean).toEqual(sdk);
  });

  it('entryFromWire is fromItem of the unmarshalled item', async () => {
    const page = await raw.call<{ Items: Parameters<typeof entryFromWire>[0][] }>('Scan', { TableName: db.tableNames.audit, ConsistentRead: true });
    const sdk = await db.client.send(new (await import('@aws-sdk/client-dynamodb')).ScanCommand({ TableName: db.tableNames.audit, ConsistentRead: true }));
    const { unmarshall } = await import('@aws-sdk/util-dynamodb');
    const view = (e: ChainEntry) => ({ record: e.record, keySeq: e.keySeq, keyMismatch: e.keyMismatch, keyPartition: e.keyPartition, partition: e.partition, hash: e.hash, prevHash: e.prevHash, contentHash: e.contentHash() });
    const lean = page.Items.map((i) => view(entryFromWire(i)));
    expect(lean).toHaveLength(24 + 4 + 4); // 24 records, 4 partition-list items, 4 head items
    expect(lean).toEqual((sdk.Items ?? []).map((i) => view(fromItem(unmarshall(i)))));
    // Every record's content hashes to its stored hash on both paths.
    for (const e of lean.filter((x) => x.record.seq !== undefined)) expect(e.contentHash).toBe(e.hash);
  });

  it('finds an edited record, a deleted middle record and a deleted newest record as the SDK reader does', async () => {
    // Prepare: edit t/app #2, delete t/db #4, delete t/web #6 (the head item still says 6).
    await db.docClient.send(new UpdateCommand({ TableName: db.tableNames.audit, Key: { pk: 'repo#t/app', sk: formatSeq(2) }, UpdateExpression: 'SET bytes = :b', ExpressionAttributeValues: { ':b': 1 } }));
    await db.docClient.send(new DeleteCommand({ TableName: db.tableNames.audit, Key: { pk: 'repo#t/db', sk: formatSeq(4) } }));
    await db.docClient.send(new DeleteCommand({ TableName: db.tableNames.audit, Key: { pk: 'repo#t/web', sk: formatSeq(6) } }));

    // Act
    const lean = await scanned(leanLog());
    const sdk = await scanned(sdkLog());

    // Assess
    expect(lean.result.broken.map((b) => [b.partition, b.seq, b.reason])).toEqual([
      ['repo#t/app', 2, 'hash-mismatch'],
      ['repo#t/db', 4, 'gap'],
      ['repo#t/web', 6, 'truncated'],
    ]);
    expect(lean).toEqual(sdk);
  });

  it('openDynamoAuditLog reads through the lean client with the SDK client\'s endpoint and credentials', async () => {
    const opened = openDynamoAuditLog({ endpoint: db.endpoint, region: 'us-east-1', tableName: db.tableNames.audit });
    try {
      const result = await opened.log.verify();
      // Records before each break: t/app 1, t/db 3, t/web 5, global 6.
      expect(result.checked).toBe(15);
      expect(opened.raw.endpoint.href).toBe(`${db.endpoint}/`);
    } finally {
      opened.close();
    }
  });
});
