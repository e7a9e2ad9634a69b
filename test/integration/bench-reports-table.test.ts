// The reports benchmark's DynamoDB stand-in (bench/reports-table.ts) answers as dynalite does: the same sealed log loaded into
// both, the same Query and Scan requests sent to both through the SDK, the same items back (in order where DynamoDB defines one).
import { QueryCommand, ScanCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryName, writeAuditLog } from '../../bench/reports-data.ts';
import { startSyntheticAuditTable, type SyntheticTable } from '../../bench/reports-table.ts';
import { partitionFor } from '../../functions/audit/chain.ts';
import { createDynamoClients, type DynamoClients } from '../../functions/dynamo/client.ts';
import { AUDIT_INDEXES, AUDIT_KEYS, AUDIT_TABLE } from '../../functions/dynamo/tables.ts';
import { startDynalite, type DynaliteHandle } from '../helpers/dynalite.ts';

/** 500 records (6 repository chains and a one-record global chain) and their 14 meta items: about 2 s of dynalite writes. */
const TOTAL = 500;
const REPOSITORIES = 6;
const ACTION = 'replicate';

type Item = Record<string, unknown>;
interface Page {
  readonly items: Item[];
  readonly count: number | undefined;
  readonly scanned: number | undefined;
}

let db: DynaliteHandle;
let standIn: SyntheticTable;
let standInClients: DynamoClients;
/** The two servers, each with the table name it knows the log by. */
let servers: { name: string; send: (input: Omit<QueryCommandInput, 'TableName'> | Omit<ScanCommandInput, 'TableName'>, op: 'Query' | 'Scan') => Promise<Page[]> }[];
/** Every replicate timeKey, ascending (from dynalite). */
let keys: string[];

/** Every page of a request, following LastEvaluatedKey (a page that stopped at its Limit has one even when nothing follows: then an empty last page). */
function pager(client: DynamoDBClient, tableName: string) {
  return async (input: Omit<QueryCommandInput, 'TableName'> | Omit<ScanCommandInput, 'TableName'>, op: 'Query' | 'Scan'): Promise<Page[]> => {
    const pages: Page[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const request = { ...input, TableName: tableName, ...(start ? { ExclusiveStartKey: start } : {}) };
      const out = await client.send(op === 'Query' ? new QueryCommand(request as QueryCommandInput) : new ScanCommand(request as ScanCommandInput));
      start = out.LastEvaluatedKey;
      const items = (out.Items ?? []).map((i) => unmarshall(i));
      pages.push({ items, count: out.Count, scanned: out.ScannedCount });
    } while (start);
    return pages;
  };
}

const bySortKey = (a: Item, b: Item): number => {
  const ka = `${String(a[AUDIT_KEYS.partitionKey])}\u0000${String(a[AUDIT_KEYS.sortKey])}`;
  const kb = `${String(b[AUDIT_KEYS.partitionKey])}\u0000${String(b[AUDIT_KEYS.sortKey])}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};
const sorted = (items: Item[]): Item[] => [...items].sort(bySortKey);

beforeAll(async () => {
  db = await startDynalite({ tables: { audit: AUDIT_TABLE } });
  await writeAuditLog(db.docClient, db.tableNames.audit, TOTAL, REPOSITORIES, () => undefined);
  standIn = await startSyntheticAuditTable(TOTAL, REPOSITORIES);
  standInClients = createDynamoClients({ endpoint: standIn.endpoint, region: 'us-east-1' });
  servers = [
    { name: 'dynalite', send: pager(db.client, db.tableNames.audit) },
    { name: 'stand-in', send: pager(standInClients.client, 'audit') },
  ];
  const all = await servers[0]!.send(actionQuery('none'), 'Query');
  keys = all.flatMap((p) => p.items).map((i) => String(i[AUDIT_KEYS.timeKey]));
}, 60_000);

afterAll(async () => {
  standInClients?.destroy();
  await Promise.all([standIn?.stop(), db?.stop()]);
});

type Form = 'none' | '>=' | '<' | 'BETWEEN' | 'BETWEEN dates';

/** The byActionTime Query of dynamo-store.ts's indexQuery, with each form of its timeKey condition. */
function actionQuery(form: Form, extra: Partial<QueryCommandInput> = {}): Omit<QueryCommandInput, 'TableName'> {
  // Bounds on existing keys, so that the inclusive and exclusive ends are tested; `BETWEEN dates` as a caller passes ISO times.
  const lo = keys?.[Math.floor(keys.length / 3)] ?? '';
  const hi = keys?.[Math.floor((2 * keys.length) / 3)] ?? '';
  const bound: Record<Form, [string, Record<string, string>]> = {
    none: ['', {}],
    '>=': [' AND #t >= :since', { ':since': lo }],
    '<': [' AND #t < :until', { ':until': hi }],
    BETWEEN: [' AND #t BETWEEN :since AND :until', { ':since': lo, ':until': hi }],
    'BETWEEN dates': [' AND #t BETWEEN :since AND :until', { ':since': '2026-11-05T00:00:00.000Z', ':until': '2026-11-20T00:00:00.000Z' }],
  };
  const [condition, values] = bound[form];
  return {
    IndexName: AUDIT_INDEXES.byActionTime,
    KeyConditionExpression: `#k = :k${condition}`,
    ExpressionAttributeNames: { '#k': AUDIT_KEYS.action, ...(form !== 'none' ? { '#t': AUDIT_KEYS.timeKey } : {}), ...extra.ExpressionAttributeNames },
    ExpressionAttributeValues: Object.fromEntries(Object.entries({ ':k': ACTION, ...values }).map(([k, v]) => [k, { S: v }])),
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'ExpressionAttributeNames')),
  };
}

/** The same request to both servers: their pages. */
async function both(input: Omit<QueryCommandInput, 'TableName'> | Omit<ScanCommandInput, 'TableName'>, op: 'Query' | 'Scan'): Promise<[Page[], Page[]]> {
  const [a, b] = await Promise.all(servers.map((s) => s.send(input, op)));
  return [a!, b!];
}

describe('the reports stand-in against dynalite', () => {
  it('holds the same items: a whole-table Scan gives the same set', async () => {
    const [dynalite, standInPages] = await both({}, 'Scan');
    const items = dynalite.flatMap((p) => p.items);
    expect(items).toHaveLength(TOTAL + 2 * (REPOSITORIES + 1));
    expect(standIn.items).toBe(items.length);
    expect(sorted(standInPages.flatMap((p) => p.items))).toEqual(sorted(items));
  });

  describe.each<Form>(['none', '>=', '<', 'BETWEEN', 'BETWEEN dates'])('Query byActionTime, timeKey condition %s', (form) => {
    it.each([true, false])('ScanIndexForward %s: the same items in the same order', async (forward) => {
      // Act
      const [dynalite, standInPages] = await both(actionQuery(form, { ScanIndexForward: forward }), 'Query');

      // Assess: one page each (a few hundred small items), the same items in timeKey order
      const items = dynalite.flatMap((p) => p.items);
      expect(items.length).toBeGreaterThan(form === 'none' ? 200 : 50);
      const order = items.map((i) => String(i[AUDIT_KEYS.timeKey]));
      expect(order).toEqual([...order].sort((a, b) => (forward ? (a < b ? -1 : 1) : a < b ? 1 : -1)));
      expect(standInPages).toEqual(dynalite);
    });

    it.each([true, false])('ScanIndexForward %s, Limit 7 and a projection: the same pages', async (forward) => {
      // Prepare: the fields as queryFields asks for them (placeholders: action, bytes and time are reserved words), one absent from most items
      const fields = ['action', 'timeKey', 'repository', 'bytes', 'seq', 'errorCode'];
      const names = Object.fromEntries(fields.map((f, i) => [`#f${i}`, f]));

      // Act
      const [dynalite, standInPages] = await both(
        actionQuery(form, { ScanIndexForward: forward, Limit: 7, ProjectionExpression: Object.keys(names).join(', '), ExpressionAttributeNames: names }),
        'Query',
      );

      // Assess: full pages of 7, only the projected attributes, the same on both
      expect(dynalite.length).toBeGreaterThan(3);
      expect(dynalite.slice(0, -1).every((p) => p.items.length === 7 && p.count === 7 && p.scanned === 7)).toBe(true);
      const items = dynalite.flatMap((p) => p.items);
      expect(new Set(items.flatMap((i) => Object.keys(i)))).toEqual(new Set(fields));
      expect(items.some((i) => i.errorCode === undefined)).toBe(true);
      expect(standInPages).toEqual(dynalite);
    });
  });

  it('the timeKey bounds cut as DynamoDB does: >= keeps its bound, < drops it, BETWEEN keeps both ends', async () => {
    const count = async (form: Form) => (await servers[1]!.send(actionQuery(form), 'Query')).flatMap((p) => p.items).length;
    const lo = Math.floor(keys.length / 3);
    const hi = Math.floor((2 * keys.length) / 3);
    expect([await count('>='), await count('<'), await count('BETWEEN')]).toEqual([keys.length - lo, hi, hi - lo + 1]);
  });

  it('Query of one chain on the table, both directions, paged by 10: the same pages in sort-key order', async () => {
    // Prepare: a repository chain (the second one written)
    const chain = partitionFor({ repository: repositoryName(1) });
    for (const forward of [true, false]) {
      // Act
      const [dynalite, standInPages] = await both(
        { KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey }, ExpressionAttributeValues: { ':pk': { S: chain } }, ConsistentRead: true, ScanIndexForward: forward, Limit: 10 },
        'Query',
      );
      // Assess
      const seqs = dynalite.flatMap((p) => p.items).map((i) => Number(i.seq));
      expect(seqs.length).toBeGreaterThan(50);
      expect(seqs).toEqual([...seqs].sort((a, b) => (forward ? a - b : b - a)));
      expect(standInPages).toEqual(dynalite);
    }
  });

  it('a Query whose last page is full at its Limit: a LastEvaluatedKey on it and an empty page after, on both', async () => {
    // The 7 head items, Limit 7: DynamoDB stops at the Limit and cannot know nothing follows.
    const [dynalite, standInPages] = await both(
      { KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey }, ExpressionAttributeValues: { ':pk': { S: 'meta#heads' } }, Limit: REPOSITORIES + 1 },
      'Query',
    );
    expect(dynalite.map((p) => p.items.length)).toEqual([REPOSITORIES + 1, 0]);
    expect(standInPages).toEqual(dynalite);
  });

  it('Query of the head items: in sort-key (partition name) order on both', async () => {
    const [dynalite, standInPages] = await both(
      { KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': AUDIT_KEYS.partitionKey }, ExpressionAttributeValues: { ':pk': { S: 'meta#heads' } }, ConsistentRead: true },
      'Query',
    );
    expect(dynalite.flatMap((p) => p.items)).toHaveLength(REPOSITORIES + 1);
    expect(standInPages).toEqual(dynalite);
  });

  it('parallel Scan, 3 segments paged by 9: together the whole table, each item in one segment, each chain whole in one segment and in sort-key order', async () => {
    const whole = sorted((await servers[0]!.send({}, 'Scan')).flatMap((p) => p.items));
    for (const server of servers) {
      // Act
      const segments = await Promise.all([0, 1, 2].map(async (Segment) => (await server.send({ Segment, TotalSegments: 3, Limit: 9, ConsistentRead: true }, 'Scan')).flatMap((p) => p.items)));

      // Assess
      expect(sorted(segments.flat()), server.name).toEqual(whole);
      const home = new Map<string, number>();
      segments.forEach((items, segment) => {
        for (const item of items) {
          const pk = String(item[AUDIT_KEYS.partitionKey]);
          expect(home.get(pk) ?? segment, `${server.name}: ${pk} in one segment`).toBe(segment);
          home.set(pk, segment);
        }
        const byPartition = new Map<string, string[]>();
        for (const item of items) byPartition.set(String(item[AUDIT_KEYS.partitionKey]), [...(byPartition.get(String(item[AUDIT_KEYS.partitionKey])) ?? []), String(item[AUDIT_KEYS.sortKey])]);
        for (const [pk, sks] of byPartition) expect(sks, `${server.name}: ${pk} in sort-key order`).toEqual([...sks].sort());
      });
      expect(home.size).toBe(REPOSITORIES + 1 + 2);
    }
  });

  it('Scan with attribute_exists(seq), paged by 50: the records only, every item scanned and counted as DynamoDB counts', async () => {
    const [dynalite, standInPages] = await both({ FilterExpression: 'attribute_exists(#seq)', ExpressionAttributeNames: { '#seq': 'seq' }, Limit: 50 }, 'Scan');
    for (const pages of [dynalite, standInPages]) {
      expect(pages.reduce((n, p) => n + (p.scanned ?? 0), 0)).toBe(TOTAL + 2 * (REPOSITORIES + 1));
      expect(pages.reduce((n, p) => n + (p.count ?? 0), 0)).toBe(TOTAL);
      expect(pages.every((p) => p.items.length === p.count)).toBe(true);
    }
    expect(sorted(standInPages.flatMap((p) => p.items))).toEqual(sorted(dynalite.flatMap((p) => p.items)));
    expect(standInPages.flatMap((p) => p.items).every((i) => i.seq !== undefined)).toBe(true);
  });
});
